"""The lines of one paragraph that soft line breaks cut (Word's
Shift+Enter, `w:br`; OpenDocument's `text:line-break`).

In a table cell outside a list, a soft break is how a writer sets one
statement per line without bullets ("Des tablettes en nombre
suffisant⏎Un ENT commun"): a piece that opens with a capital starts a new
paragraph, unless the piece before stops where no sentence ends ("avec
la⏎DANE": `lexicon.ends_mid_sentence`); one in lower case goes on with
the sentence it was cut from.
Inside a list item a soft break goes on with the item: it is how Word
continues a bullet on a new line without a new bullet. Outside tables
the template's paragraphs are read as wholes ("RETEX 1 –⏎Thématique :
…⏎title", one paragraph), so there it never opens one.
"""

from __future__ import annotations

from pipeline.ingest.readers.lexicon import ends_mid_sentence
from pipeline.model import Line


def paragraph_lines(pieces: list[str], level: int | None, in_cell: bool) -> list[Line]:
    """The paragraph's non-blank pieces, in order, as lines; the first
    opens the paragraph and carries its list level."""
    lines: list[Line] = []
    for piece in (piece.strip() for piece in pieces):
        if not piece:
            continue
        opens = not lines or (in_cell and level is None and _opens_with_capital(piece)
                              and not ends_mid_sentence(lines[-1].text))
        lines.append(Line(text=piece, new_paragraph=opens, level=level if not lines else None))
    return lines


def _opens_with_capital(text: str) -> bool:
    first = next((ch for ch in text if ch.isalnum()), "")
    return first.isupper()
