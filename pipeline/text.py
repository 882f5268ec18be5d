"""Text helpers shared by the readers, the template parser and normalisers."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

from pipeline.model import Line

# Glyphs that open a bullet. Word exports list bullets as real characters in
# PDFs (•, ▶, ◦, –) and authors type them by hand in DOCX cells.
BULLET_GLYPHS = "▶►▸▹➢➤•◦‣∙·●○▪▫■□◆◇–—-*✓✔➔→"
_BULLET_RE = re.compile(
    rf"^\s*(?:[{re.escape(BULLET_GLYPHS)}\uf000-\uf8ff]+\s*|\(?\d{{1,2}}[.)](?:\s+|$)|\(?[a-z][.)](?:\s+|$))"
)
_GLYPH_ONLY_RE = re.compile(rf"^[\s{re.escape(BULLET_GLYPHS)}\uf000-\uf8ff]*$")
_SPACES_RE = re.compile(r"\s+")

# Check boxes as the readers write them (☒/☐ for Word's, LibreOffice's
# and OCR's boxes) and as documents type them.
CHECKED = "☒☑✓✔✗✘⊠▣■"
UNCHECKED = "☐□❏❑"

# Cells that say nothing: the template's own placeholder text.
PLACEHOLDERS = {"a completer", "a preciser", "...", "…", "", "xxx"}


def fold(text: str) -> str:
    """Lower-case, accent-free, single-spaced text for matching rules."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace("‘", "'").replace("œ", "oe").replace("Œ", "oe")
    return _SPACES_RE.sub(" ", text).strip().casefold()


# List numbering ("1.", "2)") before a word.
_NUMBERING_RE = re.compile(r"^\s*\(?\d{1,2}[.)]\s+\D")
# A lettered list ("a.", "b)", "(c)"): Word's a, b, c numbering as a PDF
# shows it, or letters typed by hand. Lower-case only ("A. Martin" is a
# name), and a word must follow the mark.
_LETTERING_RE = re.compile(r"^\s*\(?[a-z][.)]\s+[^\W\d_]")
# A mark alone on its line ("c.", "3.", "(c)"): a PDF page break can leave
# it at a page's foot and its text on the next. Not "r)": a word cut at a
# narrow column's edge leaves such tails ("apps.education.f|r)").
_LONE_MARK_RE = re.compile(r"^\s*(?:[a-z]|\d{1,2})\.\s*$|^\s*\((?:[a-z]|\d{1,2})\)\s*$")


def starts_with_bullet(text: str) -> bool:
    """True for a bullet glyph or list numbering ("1.", "2)", "a.", "b)") at the start."""
    stripped = text.lstrip()
    if not stripped:
        return False
    if _NUMBERING_RE.match(stripped) or _LETTERING_RE.match(stripped) or _LONE_MARK_RE.match(stripped):
        return True
    if stripped[0] in BULLET_GLYPHS or "\uf000" <= stripped[0] <= "\uf8ff":
        # A dash glued to a word ("-Particulièrement") is punctuation, not a bullet.
        return not (stripped[0] in "–—-" and len(stripped) > 1 and stripped[1].isalnum())
    return False


def strip_bullet(text: str) -> str:
    if starts_with_bullet(text):
        return _BULLET_RE.sub("", text, count=1).strip()
    return text.strip()


def is_placeholder(text: str) -> bool:
    folded = fold(text).strip(" .:;!?*")
    return folded in PLACEHOLDERS or _GLYPH_ONLY_RE.match(text) is not None


def clean_statement(text: str) -> str:
    return _SPACES_RE.sub(" ", text).strip()


# Punctuation French sets with no space before it: a line a PDF opens with
# one ("hebdomadaires|)") joins the line above without a space.
_NO_SPACE_BEFORE = (")", "]", ",", ".", "…")


def opens_mid_sentence(text: str) -> bool:
    """A line opening in lower case or with closing punctuation (")", ",")
    goes on with the sentence of the line above: no statement starts so."""
    return text[:1].islower() or text.startswith(_NO_SPACE_BEFORE)


def join_lines(parts: list[Line]) -> str:
    """Join the lines of one statement, undoing wraps and end-of-line hyphens."""
    out = ""
    for line in parts:
        piece = line.text.strip()
        if not out:
            out = piece
        elif line.glue or piece.startswith(_NO_SPACE_BEFORE):
            out += piece
        elif out.endswith("\u00ad"):  # a soft hyphen: the word was only cut
            out = out[:-1] + piece
        elif out.endswith(("-", "‐")) and len(out) > 1 and (
                (out[-2].isalpha() and piece[:1].isalpha()) or (out[-2].isdigit() and piece[:1].isdigit())):
            # Word processors do not hyphenate by default: a hyphen at the
            # end of a line belongs to a compound ("co-|working") or a range
            # of years ("2020-|2021") and stays, with no space.
            out += piece
        else:
            out += " " + piece
    return clean_statement(out)


class Statement(NamedTuple):
    text: str
    page: int | None  # page of the statement's first line (PDF only)


def split_statements(lines: list[Line]) -> list[Statement]:
    """Cut a cell into statements: one per bullet, or one per paragraph.

    A line opens a new statement when it starts a paragraph or carries a
    bullet glyph; otherwise it continues the current one. A nested bullet
    (list level > the cell's top level) is joined to its parent with " – ",
    as the contract asks.
    """
    statements: list[tuple[int, list[Line]]] = []
    levels = [line.level for line in lines if line.level is not None and line.text.strip()]
    top = min(levels) if levels else 0
    for line in lines:
        if not line.text.strip():
            continue
        opens = line.new_paragraph or starts_with_bullet(line.text)
        if opens or not statements:
            level = (line.level if line.level is not None else top) - top
            statements.append((level, [_unbulleted(line)]))
        else:
            statements[-1][1].append(line)
    merged: list[Statement] = []
    for level, parts in statements:
        text = join_lines(parts)
        if is_placeholder(text):
            continue
        if level > 0 and merged:
            merged[-1] = merged[-1]._replace(text=f"{merged[-1].text} – {text}")
        else:
            merged.append(Statement(text, parts[0].page))
    return merged


def _unbulleted(line: Line) -> Line:
    return Line(
        text=strip_bullet(line.text),
        new_paragraph=line.new_paragraph,
        level=line.level,
        glue=line.glue,
        page=line.page,
    )
