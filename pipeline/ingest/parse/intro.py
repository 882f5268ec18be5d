"""The introduction table: region, date and place, format, animators and
the nine participant rows.

Rows are found by their label text, not their position. Check boxes come
as glyphs (the DOCX reader turns Word check-box controls into ☒/☐ too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.contract import PARTICIPANT_CATEGORIES
from pipeline.ingest.normalize.dates import parse_date_place
from pipeline.ingest.parse.found import Found
from pipeline.model import Cell, Participant, SessionMeta, Table
from pipeline.text import CHECKED, UNCHECKED, fold, join_lines, split_statements

# The introduction's name among the parts found: not a contract section
# (it gives no items), but it tells a restitution from another document.
INTRO = "intro"

# Checked in this order: "Élus, cadres et représentants d'association" must
# not land on associations, "Représentants des usagers" not on académiques.
_CATEGORY_RULES = [
    ("premier_degre", re.compile(r"premier degre|1er degre|1\s*er degre|primaire")),
    ("second_degre", re.compile(r"second degre|2nd degre|2d degre|secondaire")),
    ("edtech", re.compile(r"edtech|ed tech")),
    ("chercheurs", re.compile(r"chercheu")),
    ("operateurs", re.compile(r"operateur")),
    ("elus_collectivites", re.compile(r"\belus?\b|collectivit")),
    ("usagers", re.compile(r"usagers|familles et eleves|parents")),
    ("associations", re.compile(r"association|collectifs")),
    ("representants_academiques", re.compile(r"academique")),
]
_BOX_RE = re.compile(rf"\[\s*[xX]\s*\]|\[\s*\]|[{CHECKED}{UNCHECKED}]")
_COUNT_RE = re.compile(r"participants?\s*:?\s*(\d+)")
_ESTABLISHMENTS_RE = re.compile(r"etablissements?(?:\s+representes?)?\s*:?\s*(\d+)")
_FORMATS = [
    ("hybride", re.compile(r"les\s*(?:2|deux)\b|hybride|mixte|bimodal")),
    ("presentiel", re.compile(r"presentiel")),
    ("distanciel", re.compile(r"distanciel|a distance|visio")),
]


def take_intro(table: Table, found: Found) -> bool:
    """Read an introduction table into the session's metadata and
    participants; False for any other table."""
    if not _is_intro_table(table):
        return False
    _read_intro(table, found.meta, found.participants)
    found.sections.add(INTRO)
    return True


# The introduction's first row: the template opens with the region, a
# restitution without it with the session's date and place.
_FIRST_LABEL_RE = re.compile(r"^(?:nom de la )?region academique|^date\(?s?\)? et lieu")


def starts_intro(texts: list[str]) -> bool:
    """Whether a row of these cell texts opens an introduction table (a
    label and its value): what the PDF reader asks of a table drawn
    without vertical rules."""
    return len(texts) == 2 and bool(_FIRST_LABEL_RE.match(fold(texts[0])))


def _is_intro_table(table: Table) -> bool:
    labels = " ".join(fold(row[0].text) for row in table.rows if row)
    if re.search(r"date\(?s?\)? et lieu|format de la session|animateurs|participants a la session", labels):
        return True
    return sum(1 for row in table.rows if _participant_category(_row_text(row[1:]))) >= 3


def _read_intro(table: Table, meta: SessionMeta, participants: dict[str, Participant]) -> None:
    """Fill `meta` and `participants` from the rows of an introduction table."""
    for row in table.rows:
        if not row:
            continue
        label = fold(row[0].text)
        rest = _row_text(row[1:])
        if "region" in label and "academique" in label:
            meta.region_raw = rest.replace("\n", " ").strip() or None
        elif re.search(r"date|lieu", label) and not _BOX_RE.search(rest):
            meta.session_date, meta.session_place = parse_date_place(_joined_text(row[1:]))
        elif "format" in label:
            meta.session_format = _session_format(rest)
        elif "animat" in label:
            meta.animateurs = [s.text for cell in row[1:] for s in split_statements(cell.lines)]
        category = _participant_category(rest)
        if category and category not in participants:
            participants[category] = _participant(category, rest)


def _joined_text(cells: list[Cell]) -> str:
    """The cells' text with each cell's wrapped lines joined as a
    statement's are: a place cut at its hyphen ("Saint-|Brieuc", as a PDF
    wraps it) is one name again, not "Saint- Brieuc"."""
    return _distinct(join_lines(cell.lines) for cell in cells)


def _row_text(cells: list[Cell]) -> str:
    return _distinct(cell.text for cell in cells)


def _distinct(texts: Iterable[str]) -> str:
    """The texts one per line, a cell repeated by a horizontal merge once."""
    kept: list[str] = []
    for text in texts:
        if text and text not in kept:
            kept.append(text)
    return "\n".join(kept)


def _participant_category(text: str) -> str | None:
    """The category of a participant row: a check box followed by its label."""
    box = _BOX_RE.search(text)
    if not box:
        return None
    label = fold(text[box.end():]).split("nombre de participants")[0]
    for category, pattern in _CATEGORY_RULES:
        if pattern.search(label):
            return category
    return None


def _participant(category: str, text: str) -> Participant:
    box = _BOX_RE.search(text)
    checked = _is_checked(box.group(0)) if box else None
    folded = fold(text).replace("\n", " ")
    count = _COUNT_RE.search(folded)
    establishments = _ESTABLISHMENTS_RE.search(folded)
    return Participant(
        category=category,
        checked=checked,
        count=int(count.group(1)) if count else None,
        n_etablissements=int(establishments.group(1)) if establishments else None,
    )


def _is_checked(glyph: str) -> bool:
    return glyph in CHECKED or "x" in glyph.lower()


def _session_format(text: str) -> str | None:
    """The format whose box is checked; a label with no box at all counts as said."""
    boxes = list(_BOX_RE.finditer(text))
    if not boxes:
        return _format_named(fold(text))
    checked: list[str] = []
    for box, following in zip(boxes, boxes[1:] + [None]):
        if not _is_checked(box.group(0)):
            continue
        label = fold(text[box.end(): following.start() if following else None])
        code = _format_named(label)
        if code and code not in checked:
            checked.append(code)
    if {"presentiel", "distanciel"} <= set(checked) or "hybride" in checked:
        return "hybride"
    return checked[0] if checked else None


def _format_named(folded: str) -> str | None:
    for code, pattern in _FORMATS:
        if pattern.search(folded):
            return code
    return None


def complete_participants(found: dict[str, Participant]) -> list[Participant]:
    """Always the nine categories, in the template's order."""
    return [
        found.get(category) or Participant(category=category, checked=None, count=None, n_etablissements=None)
        for category in PARTICIPANT_CATEGORIES
    ]
