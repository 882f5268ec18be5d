"""Read a PDF into layout blocks with pdfplumber.

Each page is parsed once and closed at once (FIELD-NOTES: unclosed pages
grow memory linearly); only light geometry survives the page. A second,
cheap pass over that geometry then does what needs the whole document:
dropping running headers and footers, rebuilding paragraphs from wrapped
lines, and stitching tables that continue on the next page.

A scanned PDF (no text, only images) raises ScannedPdf; the OCR reader
(`ocr.py`) then builds the same page geometry from the page images and
hands it to the same passes (`page_from_words`, `layout_from_pages`).

Every tolerance of these passes is a named field of `PdfSettings`
(`pdf_settings.py`).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pdfminer.pdftypes
import pdfplumber
from pdfminer.pdfdocument import PDFPasswordIncorrect
from pdfplumber.page import Page
from pdfplumber.utils.exceptions import PdfminerException
from pdfplumber.utils.text import extract_words

from pipeline.ingest.errors import RejectedFile
from pipeline.ingest.readers.headroom import ensure_headroom
from pipeline.ingest.readers.lexicon import ends_mid_sentence, is_french_word
from pipeline.ingest.readers.pdf_settings import SETTINGS
from pipeline.ingest.readers.text_tables import (
    BBox,
    Carried,
    Grid,
    HeaderTest,
    belongs_to,
    horizontal_rules,
    text_table_grids,
)
from pipeline.ingest.readers.word_lines import line_size, word_lines
from pipeline.model import Block, Cell, Layout, Line, PageBreak, Paragraph, Table
from pipeline.text import opens_mid_sentence, starts_with_bullet, strip_bullet

MAX_PAGES = 500
# A page's content stream, a font or an object stream inflates to at most a
# few MB; a Flate "bomb" of 2 MB inflates to gigabytes.
MAX_STREAM_BYTES = 64 * 1024 * 1024
_DIGITS_RE = re.compile(r"\d+")
_PUNCTUATION_RE = re.compile(r"[^\w#]+")
# A page number ("3", "3 / 12") in a margin, digits written as "#" and
# punctuation as a space: a running line even where it does not repeat.
_PAGE_NUMBER_KEYS = ("#", "# #")
_WORD_RE = re.compile(r"\w+")
# Font sizes are one size to this many decimals: a PDF writes 8 and 7.999999999999972 for the same font.
SIZE_DECIMALS = 1

# A pdfplumber character or word (its `T_obj`: a dict of mixed values), or
# an OCR word in the same shape (x0, x1, top, bottom, text, size, fontname).
PlumberObject = dict[str, Any]


@dataclass
class _PLine:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool
    first_word_width: float
    page: int


@dataclass
class _PCell:
    x0: float
    x1: float
    lines: list[_PLine] = field(default_factory=list)


@dataclass
class _PTable:
    top: float
    bottom: float
    columns: list[float]  # x positions of the vertical boundaries
    rows: list[list[_PCell]]
    row_pages: list[int]
    page: int
    continued_rows: set[int] = field(default_factory=set)


@dataclass
class _Page:
    number: int
    height: float
    lines: list[_PLine]  # outside tables
    tables: list[_PTable]
    last_bottom: float  # lowest content, before tables move between pages


class ScannedPdf(RejectedFile):
    """A PDF whose pages hold no text, only images: a scan, for OCR to read.
    A RejectedFile still, so that a caller without OCR quarantines it."""

    def __init__(self, n_pages: int) -> None:
        super().__init__(
            "no_text_layer",
            "Le PDF ne contient pas de texte (document numérisé ?) : "
            "il faut une version avec couche texte ou une reconnaissance de caractères.",
        )
        self.n_pages = n_pages


class _BoundedZlib:
    """What pdfminer sees as the zlib module. pdfminer inflates each Flate
    stream whole, with zlib.decompress, before anything can look at its
    size: this decompress stops at MAX_STREAM_BYTES and refuses the file
    instead, so a bomb never takes more than that. Everything else is
    zlib's own (a stream cut short still raises zlib.error, as before)."""

    error = zlib.error
    decompressobj = staticmethod(zlib.decompressobj)

    @staticmethod
    def decompress(data: bytes) -> bytes:
        inflater = zlib.decompressobj()
        inflated = inflater.decompress(data, MAX_STREAM_BYTES + 1)
        if len(inflated) > MAX_STREAM_BYTES:
            raise RejectedFile(
                "too_large",
                f"Un flux compressé du PDF dépasse {MAX_STREAM_BYTES // 2**20} Mo une fois décompressé "
                "(fichier piégé ?) : fichier refusé.",
            )
        if not inflater.eof:
            raise zlib.error("incomplete or truncated stream")
        return inflated


# A deliberate monkeypatch: pdfminer's own module attribute, replaced.
pdfminer.pdftypes.zlib = _BoundedZlib  # type: ignore[attr-defined,assignment]


def read_pdf(source: Path | BinaryIO, header: HeaderTest | None = None) -> Layout:
    """A PDF file, by path or as an open binary stream. With `header`, a
    table drawn without vertical rules whose header it recognises is
    rebuilt from its text (`text_tables.py`)."""
    pages = list(_read_pages(source, header))
    if not any(page.lines or page.tables for page in pages):
        if not pages:
            raise RejectedFile("empty", "Le PDF ne contient aucune page.")
        raise ScannedPdf(len(pages))
    return layout_from_pages(pages, text_layer=True)


def layout_from_pages(pages: list[_Page], text_layer: bool = False) -> Layout:
    """The whole-document passes, the same for text-layer and OCR pages.

    Only a text layer (`text_layer`) tells paragraphs by their spacing: its
    lines are placed to a tenth of a point, while OCR boxes follow the
    letters (a line without descenders ends higher) and vary by more than
    a paragraph's spacing.
    """
    _drop_running_lines(pages)
    right_edge = max((line.x1 for page in pages for line in page.lines), default=0.0)
    _stitch_tables(pages)
    return Layout(blocks=_blocks(pages, right_edge, _vocabulary(pages), text_layer), n_pages=len(pages))


def _read_pages(source: Path | BinaryIO, header: HeaderTest | None) -> Iterator[_Page]:
    try:
        # pdfplumber's annotation lists BufferedReader and BytesIO; it reads any binary stream.
        pdf = pdfplumber.open(source)  # type: ignore[arg-type]
    except PdfminerException as exc:
        if isinstance(exc.__context__ or exc.__cause__, (RejectedFile, MemoryError)):
            raise  # a bounded stream or the memory limit: the per-file boundary reads the cause
        raise _classify_open_error(exc) from exc
    with pdf:
        if len(pdf.pages) > MAX_PAGES:
            raise RejectedFile(
                "too_large", f"Le PDF compte {len(pdf.pages)} pages (maximum accepté : {MAX_PAGES})."
            )
        carried: Carried | None = None
        for page in pdf.pages:
            ensure_headroom()
            try:
                read, carried = _read_page(page, header, carried)
                yield read
            finally:
                page.close()


def _classify_open_error(exc: Exception) -> RejectedFile:
    cause = exc.__context__ or exc.__cause__
    if isinstance(cause, PDFPasswordIncorrect) or "password" in repr(cause).lower():
        return RejectedFile("encrypted", "Le PDF est protégé par un mot de passe : il ne peut pas être lu.")
    return RejectedFile("corrupt", "Le PDF est endommagé ou tronqué.")


def _read_page(page: Page, header: HeaderTest | None, carried: Carried | None) -> tuple[_Page, Carried | None]:
    """One page's lines and tables, and the columns of a table drawn
    without vertical rules that goes on to the next page."""
    chars = [c for c in page.chars if c.get("upright", True)]
    found = page.find_tables()
    grids: list[Grid] = [(table.bbox, [row.cells for row in table.rows]) for table in found]
    if header is not None:
        header_rows = [grid for grid, table in zip(grids, found)
                       if len(table.rows) == 1 and header([text or "" for text in table.extract()[0]])]
        rules = horizontal_rules(page.edges)

        def words_outside(ruled: list[Grid]) -> list[PlumberObject]:
            return extract_words([c for c in chars if not inside_any(c, ruled)],
                                 keep_blank_chars=False, use_text_flow=False, extra_attrs=["size"])

        grids, carried = with_text_tables(grids, header_rows, words_outside, rules, float(page.height), header,
                                          carried)
    tables: list[_PTable] = []
    in_table: set[int] = set()
    for bbox, rows in grids:
        table = _read_table(bbox, rows, chars, in_table, page.page_number, _lines)
        if table is not None:
            tables.append(table)
    outside = [c for i, c in enumerate(chars) if i not in in_table]
    return _Page(
        number=page.page_number,
        height=float(page.height),
        lines=_lines(outside, page.page_number),
        tables=tables,
        last_bottom=max((c["bottom"] for c in chars if c["text"].strip()), default=0.0),
    ), carried


def with_text_tables(grids: list[Grid], header_rows: list[Grid],
                     words_outside: Callable[[list[Grid]], list[PlumberObject]], rules: list[BBox],
                     height: float, header: HeaderTest, carried: Carried | None) -> tuple[list[Grid], Carried | None]:
    """A page's table grids with those of its tables drawn without
    vertical rules rebuilt from the text (`text_tables.py`), for a text
    layer and an OCR page alike; and what the next page continues.

    `header_rows` are the found grids that are a header row alone (the
    rebuilt table's header, or no table); `words_outside(ruled)` the
    page's words outside the other found grids.
    """
    ruled = [grid for grid in grids if grid not in header_rows]
    coming_in = carried
    while True:
        rebuilt, carried = text_table_grids(words_outside(ruled), height, header_rows, rules, header, coming_in)
        # Rows found for their shading alone (a banded table) belong to
        # the rebuilt table they are part of: read again with its text.
        banded = [grid for grid in ruled if any(belongs_to(table, grid) for table in rebuilt)]
        if not banded:
            break
        ruled = [grid for grid in ruled if grid not in banded]
    kept = [grid for grid in header_rows if not any(_inside_box(grid[0], table[0]) for table in rebuilt)]
    return sorted(ruled + kept + rebuilt, key=lambda grid: grid[0][1]), carried


def inside_any(box: PlumberObject, grids: list[Grid]) -> bool:
    return any(contains(grid[0], centre(box)) for grid in grids)


def centre(box: PlumberObject) -> tuple[float, float]:
    return (box["x0"] + box["x1"]) / 2, (box["top"] + box["bottom"]) / 2


def contains(bbox: BBox, point: tuple[float, float]) -> bool:
    x0, top, x1, bottom = bbox
    return bool(x0 <= point[0] <= x1 and top <= point[1] <= bottom)


def _inside_box(inner: BBox, outer: BBox) -> bool:
    slack = SETTINGS.line_tolerance_pt
    return (outer[0] - slack <= inner[0] and inner[2] <= outer[2] + slack
            and outer[1] - slack <= inner[1] and inner[3] <= outer[3] + slack)


def page_from_words(number: int, height: float, words: list[PlumberObject], grids: list[Grid]) -> _Page:
    """A page whose words and table grids were found elsewhere (OCR of a
    page image), in the shapes pdfplumber gives: words with x0, x1, top,
    bottom, text, size and fontname; grids as (bbox, rows of cell bboxes)."""
    tables: list[_PTable] = []
    in_table: set[int] = set()
    for bbox, grid_rows in grids:
        table = _read_table(bbox, grid_rows, words, in_table, number, _word_lines)
        if table is not None:
            tables.append(table)
    outside = [w for i, w in enumerate(words) if i not in in_table]
    return _Page(number=number, height=height, lines=_word_lines(outside, number), tables=tables,
                 last_bottom=max((w["bottom"] for w in words), default=0.0))


def _read_table(bbox: BBox, grid_rows: Sequence[Sequence[BBox | None]], boxes: list[PlumberObject],
                in_table: set[int], page_number: int,
                to_lines: Callable[[list[PlumberObject], int], list[_PLine]]) -> _PTable | None:
    """Place characters (or OCR words) in the cells of one table grid, by their centre."""
    x0, top, x1, bottom = bbox
    if not grid_rows:
        return None
    columns = sorted({round(c[0], 1) for row in grid_rows for c in row if c} | {round(x1, 1)})
    buckets: dict[tuple[int, int], list[PlumberObject]] = {}
    for i, char in enumerate(boxes):
        point = centre(char)
        if not contains(bbox, point):
            continue
        in_table.add(i)
        for r, row in enumerate(grid_rows):
            hit = next((k for k, c in enumerate(row) if c and contains(c, point)), None)
            if hit is not None:
                buckets.setdefault((r, hit), []).append(char)
                break
    rows = []
    for r, row in enumerate(grid_rows):
        cells = []
        for k, cell_box in enumerate(row):
            cell = _PCell(x0=cell_box[0], x1=cell_box[2]) if cell_box else _PCell(x0=0, x1=0)
            cell.lines = to_lines(buckets.get((r, k), []), page_number)
            cells.append(cell)
        rows.append(cells)
    return _PTable(top=top, bottom=bottom, columns=columns, rows=rows,
                   row_pages=[page_number] * len(rows), page=page_number)


def _lines(chars: list[PlumberObject], page_number: int) -> list[_PLine]:
    if not chars:
        return []
    words = extract_words(chars, keep_blank_chars=False, use_text_flow=False, extra_attrs=["size", "fontname"])
    return _word_lines(words, page_number)


def _word_lines(words: list[PlumberObject], page_number: int) -> list[_PLine]:
    """Group words into lines by their tops, left to right."""
    lines = []
    for group in word_lines(words):
        lines.append(
            _PLine(
                text=" ".join(w["text"] for w in group),
                x0=group[0]["x0"],
                x1=group[-1]["x1"],
                top=min(w["top"] for w in group),
                bottom=max(w["bottom"] for w in group),
                size=line_size(group),
                bold=all("bold" in w["fontname"].lower() for w in group),
                first_word_width=group[0]["x1"] - group[0]["x0"],
                page=page_number,
            )
        )
    lines.sort(key=lambda line: line.top)
    return lines


# --------------------------------------------------------------------------
# Whole-document passes
# --------------------------------------------------------------------------


def _drop_running_lines(pages: list[_Page]) -> None:
    """Remove headers and footers: lines in the page margins that repeat."""
    def key(line: _PLine) -> str:
        """Digits and punctuation aside: page numbers change, and OCR reads
        one footer's dashes as "-", "–" or "—" from page to page."""
        return _PUNCTUATION_RE.sub(" ", _DIGITS_RE.sub("#", line.text.lower())).strip()

    def in_margin(line: _PLine, page: _Page) -> bool:
        return (line.top < SETTINGS.running_margin * page.height
                or line.bottom > (1 - SETTINGS.running_margin) * page.height)

    counts = Counter(key(line) for page in pages for line in page.lines if in_margin(line, page))
    threshold = max(SETTINGS.running_min_pages, int(SETTINGS.running_page_share * len(pages)))
    for page in pages:
        page.lines = [
            line for line in page.lines
            if not (in_margin(line, page) and (counts[key(line)] >= threshold or key(line) in _PAGE_NUMBER_KEYS))
        ]


def _same_columns(a: _PTable, b: _PTable) -> bool:
    return len(a.columns) == len(b.columns) and all(
        abs(x - y) <= SETTINGS.column_tolerance_pt for x, y in zip(a.columns, b.columns)
    )


def _row_text(row: list[_PCell]) -> str:
    return " | ".join(" ".join(line.text for line in cell.lines) for cell in row).lower()


def _stitch_tables(pages: list[_Page]) -> None:
    """Join a table that runs on from one page to the next.

    Keys (FIELD-NOTES): nothing below the table on page N, nothing above
    it on page N+1, the same column boundaries. A first row equal to the
    table's header is a repeated header and is dropped; any other first
    row is marked as possibly the rest of a row cut by the page break.
    """
    for prev_page, page in zip(pages, pages[1:]):
        if not prev_page.tables or not page.tables:
            continue
        before, after = prev_page.tables[-1], page.tables[0]
        if any(line.top > before.bottom for line in prev_page.lines):
            continue
        if any(line.bottom < after.top for line in page.lines):
            continue
        if not _same_columns(before, after):
            continue
        rows, row_pages = after.rows, after.row_pages
        if rows and _row_text(rows[0]) == _row_text(before.rows[0]):
            rows, row_pages = rows[1:], row_pages[1:]
        if rows:
            before.continued_rows.add(len(before.rows))
        before.rows.extend(rows)
        before.row_pages.extend(row_pages)
        before.bottom = after.bottom
        page.tables[0] = before
        prev_page.tables.pop()


def _vocabulary(pages: list[_Page]) -> Counter[str]:
    """How often the document writes each word, to tell a cut word from two words."""
    words: Counter[str] = Counter()
    for page in pages:
        lines = list(page.lines)
        for table in page.tables:
            lines.extend(line for row in table.rows for cell in row for line in cell.lines)
        for line in lines:
            words.update(_WORD_RE.findall(line.text.lower()))
    return words


def _blocks(pages: list[_Page], right_edge: float, vocabulary: Counter[str], text_layer: bool) -> list[Block]:
    blocks: list[Block] = []
    n_tables = 0
    for page in pages:
        # A table stitched from earlier pages sits first: nothing was above it.
        entries: list[tuple[float, _PTable | list[_PLine]]] = [
            (t.top if t.page == page.number else -1.0, t) for t in page.tables
        ]
        for paragraph in _paragraphs(page.lines, right_edge):
            entries.append((paragraph[0].top, paragraph))
        entries.sort(key=lambda e: e[0])
        for _, entry in entries:
            if isinstance(entry, _PTable):
                blocks.append(_to_table(entry, n_tables, vocabulary, text_layer))
                n_tables += 1
            else:
                for i, line in enumerate(entry):
                    blocks.append(Paragraph(line=_to_line(line, new_paragraph=i == 0, glue=False, level=None)))
        if page.last_bottom < SETTINGS.page_break_fill * page.height:
            blocks.append(PageBreak())
    return blocks


def _paragraphs(lines: list[_PLine], right_edge: float) -> list[list[_PLine]]:
    paragraphs: list[list[_PLine]] = []
    for line in lines:
        if paragraphs and _wraps(paragraphs[-1][-1], line, right_edge):
            paragraphs[-1].append(line)
        else:
            paragraphs.append([line])
    return paragraphs


def _wraps(prev: _PLine, line: _PLine, right_limit: float, mid_sentence: bool = False) -> bool:
    """True when `line` is the wrapped continuation of `prev`.

    A line breaks where the next word no longer fits: so `prev` continues
    on `line` exactly when prev's end plus a space plus line's first word
    would overflow the right limit, or, `mid_sentence`, when prev stops
    where no sentence ends (a column drawn without rules, whose right
    limit is only guessed: "Le rôle central des | ERUN et des référents").
    Lines far apart, of another size, or opening with a bullet start
    something new.
    """
    if starts_with_bullet(line.text):
        return False
    if abs(line.size - prev.size) > SETTINGS.size_tolerance_pt or line.bold != prev.bold:
        return False
    gap = line.top - prev.bottom
    if gap > SETTINGS.max_line_gap * prev.size or gap < -SETTINGS.max_line_overlap_pt:
        return False
    space = SETTINGS.space_width * prev.size
    return mid_sentence or prev.x1 + space + line.first_word_width > right_limit - SETTINGS.wrap_margin_pt


def _goes_on_after_break(prev: _PLine, line: _PLine, plain: bool) -> bool:
    """Whether `line`, first after a page break, continues `prev`, the last
    line before it in the same column.

    A bullet opens a new statement and anything else goes on, except in a
    cell of plain paragraphs: there the spacing that tells paragraphs
    apart on a page is lost at the break ("… à la maison | Des classes
    virtuelles …"), so a line opening with a capital is the next paragraph
    unless `prev` stops where no sentence ends ("avec le | Département").
    Where the line before ended says nothing: a paragraph's last line may
    fill the column.
    """
    if starts_with_bullet(line.text):
        return False
    return not (plain and line.text[:1].isupper()) or ends_mid_sentence(prev.text)


def _glued(prev: _PLine, line: _PLine, right_limit: float, vocabulary: Counter[str]) -> bool:
    """A word cut without hyphen because it did not fit its column.

    Geometry alone cannot tell "Accompagne|ment" from "renouvellement|du":
    both fill a narrow column with one word. Words can: the pieces are one
    word when together they make a French word or a word the document
    writes elsewhere; they are two when the head is a word of its own
    (French, or written elsewhere in the document); a head that is
    neither is a cut. A line of several words breaks at a space, unless
    its layout engine cuts words anywhere ("Prévoir systémati|quement"):
    there, only a head that is no word and makes one with the next piece
    is glued.
    """
    if prev.x1 < right_limit - SETTINGS.cut_word_reach * prev.size or not line.text[:1].islower():
        return False
    if not prev.text[-1:].isalpha():  # "informatiques," ends a word, not a cut
        return False
    head = _WORD_RE.findall(prev.text.lower())
    tail = _WORD_RE.findall(line.text.lower())
    if not head or not tail:
        return False
    whole = head[-1] + tail[0]
    if len(strip_bullet(prev.text).split()) > 1:
        return is_french_word(whole) and not is_french_word(head[-1])
    if vocabulary[whole] > 0 or is_french_word(whole):
        return True
    return not (is_french_word(head[-1]) or vocabulary[head[-1]] >= 2)


def _usual_gaps(table: _PTable) -> dict[float, float]:
    """By font size, the most common blank between two lines of a cell
    without bullets (the smallest of equally common ones): the blank
    between the lines of one paragraph, as most lines are, in a table whose
    paragraphs are placed alike. Bulleted cells are left out: a line
    opening with a bullet from another font sits a little apart."""
    gaps: dict[float, Counter[float]] = {}
    for row in table.rows:
        for cell in row:
            if any(starts_with_bullet(line.text) for line in cell.lines):
                continue
            for prev, line in zip(cell.lines, cell.lines[1:]):
                if prev.page == line.page and abs(line.size - prev.size) <= SETTINGS.size_tolerance_pt:
                    gaps.setdefault(round(prev.size, SIZE_DECIMALS), Counter())[round(line.top - prev.bottom, 1)] += 1
    return {size: max(counts.items(), key=lambda kv: (kv[1], -kv[0]))[0] for size, counts in gaps.items()}


def _spaced(prev: _PLine, line: _PLine, usual_gaps: dict[float, float]) -> bool:
    """True when a paragraph's spacing after separates `prev` from `line`.

    Statements typed as plain paragraphs (no bullet) in a cell that wrap
    to its right edge are told apart by nothing else: a LibreOffice PDF of
    such a DOCX placed "Les médiateurs numériques | dans les quartiers
    prioritaires | Le prêt de matériel aux" 1.2, then 2.2 points apart
    (the paragraphs' 1 pt spacing after), and "Le" would not have fitted.
    """
    usual = usual_gaps.get(round(prev.size, SIZE_DECIMALS))
    return usual is not None and line.top - prev.bottom > usual + SETTINGS.paragraph_spacing_pt


def _cell_lines(cell: _PCell, right_limit: float, vocabulary: Counter[str], above: _PCell | None = None,
                usual_gaps: dict[float, float] | None = None, reach: float | None = None) -> list[Line]:
    """The cell's lines. `above` is the same column's cell in the row above
    when a page break cut the row between them: the parser joins the two
    halves, the first line going on with the last above or not as said
    here, and a word cut there ("Accompagnem|ent") is glued too.
    `usual_gaps` (`_usual_gaps`, text layers only) separates the plain
    paragraphs of a cell without bullets by their spacing; bullets separate
    the others. `reach` is how far the column's widest line goes: a word
    is cut at the column's edge, which a table drawn without rules only
    shows so (its right limit is guessed from the text beside it)."""
    cut_edge = min(right_limit, reach) if reach is not None else right_limit
    bullet_x = [line.x0 for line in cell.lines if starts_with_bullet(line.text)]
    base = min(bullet_x) if bullet_x else None
    gaps = usual_gaps if usual_gaps is not None and base is None else {}
    # Plain paragraphs on both sides of the break: the half above may hold the bullets.
    halves = cell.lines + (above.lines if above is not None else [])
    plain = usual_gaps is not None and not any(starts_with_bullet(line.text) for line in halves)
    last_above = above.lines[-1] if above is not None and above.lines else None
    out: list[Line] = []
    prev: _PLine | None = None
    for line in cell.lines:
        if prev is None:
            continues = last_above is not None and _goes_on_after_break(last_above, line, plain)
        elif prev.page != line.page:
            continues = _goes_on_after_break(prev, line, plain)
        elif opens_mid_sentence(line.text):  # only a bullet starts anew
            continues = not starts_with_bullet(line.text)
        else:
            continues = _wraps(prev, line, right_limit, ends_mid_sentence(prev.text)) and not _spaced(prev, line, gaps)
        if prev is None:
            glue = last_above is not None and _glued(last_above, line, cut_edge, vocabulary)
        else:
            glue = continues and _glued(prev, line, cut_edge, vocabulary)
        level = None
        if base is not None and starts_with_bullet(line.text):
            level = 1 if line.x0 > base + SETTINGS.sub_bullet_indent_pt else 0
        out.append(_to_line(line, new_paragraph=not continues, glue=glue, level=level))
        prev = line
    return out


def _to_table(table: _PTable, index: int, vocabulary: Counter[str], text_layer: bool) -> Table:
    pads = [
        cell.x1 - max(line.x1 for line in cell.lines)
        for row in table.rows for cell in row if cell.lines and cell.x1 > cell.x0
    ]
    pad = min(max(min(pads, default=SETTINGS.cell_padding_pt), SETTINGS.min_cell_padding_pt),
              SETTINGS.max_cell_padding_pt)
    usual_gaps = _usual_gaps(table) if text_layer else None
    if not text_layer:
        pad += SETTINGS.ocr_box_slack_pt
    # How far each column's text reaches (columns by their right edge).
    reach: dict[float, float] = {}
    for row in table.rows:
        for cell in row:
            for line in cell.lines:
                reach[round(cell.x1)] = max(reach.get(round(cell.x1), line.x1), line.x1)
    rows = []
    for r, row in enumerate(table.rows):
        above = table.rows[r - 1] if r in table.continued_rows and r > 0 else []
        rows.append([
            Cell(lines=_cell_lines(cell, cell.x1 - pad, vocabulary,
                                   above[k] if k < len(above) else None,
                                   usual_gaps, reach.get(round(cell.x1))))
            for k, cell in enumerate(row)
        ])
    return Table(rows=rows, index=index, page=table.page, row_pages=list(table.row_pages),
                 continued_rows=set(table.continued_rows))


def _to_line(line: _PLine, new_paragraph: bool, glue: bool, level: int | None) -> Line:
    return Line(text=line.text, new_paragraph=new_paragraph, level=level, glue=glue, page=line.page)
