"""Typed model of one restitution, from the raw layout to the contract's rows.

Two layers live here. The *layout* layer (`Line`, `Cell`, `Table`,
`Paragraph`, `PageBreak`) is what a reader (DOCX or PDF) produces: the same
shapes for both formats, so the template parser never needs to know where
the text came from. The *document* layer (`Item`, `ActionRow`,
`Participant`, `SessionMeta`, `Restitution`) is what the parser fills and
what the export writes, one dataclass per contract file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["ok", "partial", "rejected"]


# --------------------------------------------------------------------------
# Layout layer
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One visual or logical line of text.

    `new_paragraph` is False when the line continues the previous one (a
    soft line break in Word, a wrapped line in a PDF); `glue` is True when
    it continues the previous word (a word cut at a narrow column edge).
    `level` is the list nesting level when the reader knows it (0 = top),
    None when the line is not a list item.
    """

    text: str
    new_paragraph: bool = True
    level: int | None = None
    glue: bool = False
    page: int | None = None


@dataclass
class Cell:
    lines: list[Line] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines).strip()


@dataclass
class Table:
    rows: list[list[Cell]]
    index: int
    page: int | None = None
    # 1-based page of each row's first line (PDF only).
    row_pages: list[int | None] = field(default_factory=list)
    # Rows that open a page after a page break inside the table: each may be
    # the rest of the row above, cut by the break (PDF only). The template
    # parser decides, since it knows which column names the theme.
    continued_rows: set[int] = field(default_factory=set)

    def page_of_row(self, i: int) -> int | None:
        if i < len(self.row_pages):
            return self.row_pages[i]
        return self.page


@dataclass(frozen=True)
class Paragraph:
    line: Line
    heading: int = 0  # heading level when the reader knows it, 0 otherwise

    @property
    def text(self) -> str:
        return self.line.text


@dataclass(frozen=True)
class PageBreak:
    """An explicit page or section break: the end of a fiche mesure."""


Block = Paragraph | Table | PageBreak


@dataclass
class Layout:
    blocks: list[Block]
    n_pages: int | None = None


# --------------------------------------------------------------------------
# Document layer
# --------------------------------------------------------------------------


@dataclass
class Item:
    """One statement of one cell (or fiche paragraph)."""

    section: str
    role: str
    text: str
    theme: str
    theme_raw: str
    theme_confidence: float
    table_index: int | None
    row_index: int | None
    column: int
    position: int
    page: int | None = None
    category: str | None = None
    categories: list[str] = field(default_factory=list)
    category_score: float | None = None
    # Why a category may be wrong, for the review queue: the combined score
    # of the primary minus that of the runner-up, and the primary category
    # by the model alone and by the taxonomy's cues alone (None: no cue).
    category_margin: float | None = None
    model_category: str | None = None
    cue_category: str | None = None


@dataclass
class ActionRow:
    """One row of a plan d'action table, with its normalised codes."""

    theme: str
    quoi: list[str]
    comment: list[str]
    acteurs: list[str]
    acteurs_raw: str
    temporalite: str | None
    temporalite_raw: str
    indicateurs: list[str]


@dataclass
class Participant:
    category: str
    checked: bool | None
    count: int | None
    n_etablissements: int | None


@dataclass
class SessionMeta:
    title: str | None = None
    departement_code: str | None = None
    departement: str | None = None
    academie: str | None = None
    region_academique: str | None = None
    region_raw: str | None = None
    session_date: str | None = None
    session_place: str | None = None
    session_format: str | None = None
    animateurs: list[str] = field(default_factory=list)


@dataclass
class Restitution:
    """What the template parser found in one document."""

    meta: SessionMeta
    participants: list[Participant]
    items: list[Item]
    actions: list[ActionRow]
    sections_found: set[str]


@dataclass
class DocumentResult:
    """The outcome of processing one source file: never an exception."""

    document_id: str | None  # None when the bytes were not read: a copy, or a file refused by its name
    source_file: str
    format: str
    status: Status
    reason: str | None
    message: str
    n_pages: int | None = None
    restitution: Restitution | None = None
    seconds: float = 0.0
    ocr: bool = False  # read from page images (a scan)
    ocr_confidence: float | None = None  # mean OCR word confidence, 0–1
    identity: str = ""  # what the result is cached under (pipeline.ingest.sources.identity)

    @property
    def items(self) -> list[Item]:
        return self.restitution.items if self.restitution else []
