"""Tables drawn without vertical rules: their grid rebuilt from the text.

pdfplumber finds a table from its ruling lines. A data table whose
borders were removed, or kept only between rows, leaves at most its
shaded header row for it to find: the statements below are read as page
text, the columns run together ("• Garantir un égal accès • Les
médiateurs • Des élèves…"), and the département's items are lost.

Only a table that opens with a header row is rebuilt, and only when the
caller recognises the header (`HeaderTest`: the template's column names,
which the parser knows), so that no other text is taken for a table:
- the columns are the header's: its cells' boxes when pdfplumber found
  the header row alone (its shading draws it), else the starts of the
  header line's word groups, set apart by blanks wider than a column gap;
- the table runs down while no line crosses a column boundary, nor is
  set in a larger size, nor stands far below the line before; one that
  reaches the foot of the page goes on at the top of the next when the
  lines there fit the same columns (`Carried`);
- its rows are separated by the horizontal rules when there are any,
  else each starts where the first column (the theme's) opens a
  paragraph: a bullet, or text below a blank.
The grid then goes through the reader's usual table passes, as if
pdfplumber had found it (page breaks, cut rows, repeated headers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from pipeline.ingest.readers.pdf_settings import SETTINGS
from pipeline.ingest.readers.word_lines import Word, line_size, word_lines
from pipeline.text import CHECKED, UNCHECKED, starts_with_bullet

# A box in PDF points: (x0, top, x1, bottom).
BBox = tuple[float, float, float, float]
# A table grid as pdfplumber's table finder gives it: the table's box and,
# row by row, each cell's box (None where a spanning cell covers it).
Grid = tuple[BBox, Sequence[Sequence[BBox | None]]]
# Whether the texts of a row's cells, left to right, name a data table's columns.
HeaderTest = Callable[[list[str]], bool]
BOXES = CHECKED + UNCHECKED
# A column the header line does not show is believed where this many body
# lines start a word group.
MIN_COLUMN_LINES = 2
# A table's left edge, one inner boundary and its right edge at least: two
# columns, the first of which tells the rows apart.
MIN_BOUNDARIES = 3


def horizontal_rules(edges: Iterable[Word]) -> list[BBox]:
    """The horizontal ones of a page's ruling edges (pdfplumber's shape:
    x0, top, x1, bottom, orientation), which may separate a rebuilt
    table's rows: a text layer's and a page image's alike."""
    return [(e["x0"], e["top"], e["x1"], e["bottom"]) for e in edges if e["orientation"] == "h"]


@dataclass(frozen=True)
class Carried:
    """A table that ran to the foot of a page: its columns and body size."""

    boundaries: tuple[float, ...]  # left edge, inner boundaries, right edge
    size: float


@dataclass(frozen=True)
class _VLine:
    """A visual line: the words that share a top, left to right."""

    words: list[Word]
    top: float
    bottom: float
    size: float  # of its longest word (a bullet glyph may be larger)


@dataclass(frozen=True)
class _Header:
    boundaries: tuple[float, ...]
    top: float
    bottom: float
    first_body: int  # index of the first line below the header


def text_table_grids(words: list[Word], page_height: float, header_rows: list[Grid],
                     rules: list[BBox], header: HeaderTest,
                     carried: Carried | None) -> tuple[list[Grid], Carried | None]:
    """The grids of the page's tables without vertical rules, and what the
    next page continues, if the last one reaches the foot of this page.

    `words` are the page's words outside the tables pdfplumber found but
    `header_rows` (found tables that are a header row alone); `rules`
    the page's horizontal rules.
    """
    top_margin, bottom_margin = SETTINGS.running_margin * page_height, (1 - SETTINGS.running_margin) * page_height
    lines = _visual_lines(words)
    # Where the page's body text ends on the right (its margins aside): the
    # right edge of a table whose header line tells only where its last
    # column starts.
    body_right = max((w["x1"] for w in words if top_margin <= w["top"] and w["bottom"] <= bottom_margin),
                     default=0.0) + SETTINGS.cell_padding_pt
    grids: list[Grid] = []
    last: Carried | None = None
    i = 0
    if carried is not None:
        # A running header above the rest of the table is no part of it.
        while i < len(lines) and lines[i].top < top_margin and _crosses(lines[i], carried.boundaries):
            i += 1
        if i < len(lines) and _header_at(lines, i, header_rows, header, body_right) is None:
            end = _extent(lines, i, carried.boundaries, carried.size, bottom_margin)
            if end > i:
                grids.append(_grid(lines[i:end], lines[i].top - SETTINGS.line_tolerance_pt, None,
                                   carried.boundaries, rules))
                last, i = carried, end
    while i < len(lines):
        found = _header_at(lines, i, header_rows, header, body_right)
        # A header at the foot of a page, its body on the next: a ruled
        # table's own case (the reader stitches it), or no table.
        if found is None or found.first_body >= len(lines) or lines[found.first_body].top > bottom_margin:
            i += 1
            continue
        size = lines[found.first_body].size
        end = _extent(lines, found.first_body, found.boundaries, size, bottom_margin)
        if end == found.first_body:
            i += 1
            continue
        boundaries = _with_right_columns(found, lines[found.first_body:end])
        grids.append(_grid(lines[i:end], found.top, found.bottom, boundaries, rules))
        last, i = Carried(boundaries, size), end
    # Only a running footer below the last table: the table goes on.
    reaches_foot = bool(grids) and all(line.top > bottom_margin for line in lines[i:])
    return grids, last if reaches_foot else None


def belongs_to(table: Grid, found: Grid) -> bool:
    """Whether a table pdfplumber found is row(s) of a rebuilt table (a
    shaded row of a banded table, boxed by its shading alone): it starts
    inside the rebuilt table or where it stopped, ends at its right edge,
    and its cells start at its columns (some spanning several; a first
    column merged down may leave the row's box starting further right),
    or right of its last one (a column the header line did not show)."""
    (_, table_top, x1, bottom), rows = table
    (found_x0, top, found_x1, _), found_rows = found
    starts = [cell[0] for cell in rows[0] if cell]
    slack = SETTINGS.column_tolerance_pt
    return (abs(x1 - found_x1) <= slack and any(abs(found_x0 - start) <= slack for start in starts)
            and all(cell[0] > starts[-1] or any(abs(cell[0] - start) <= slack for start in starts)
                    for row in found_rows for cell in row if cell)
            and table_top - slack <= top <= bottom + SETTINGS.band_gap_pt)


def _visual_lines(words: list[Word]) -> list[_VLine]:
    return [
        _VLine(words=group, top=min(w["top"] for w in group), bottom=max(w["bottom"] for w in group),
               size=line_size(group))
        for group in word_lines(words)
    ]


def _header_at(lines: list[_VLine], i: int, header_rows: list[Grid], header: HeaderTest,
               body_right: float) -> _Header | None:
    """The header that starts at lines[i], if any: a header row pdfplumber
    found there, or a line whose word groups name the columns (with the
    lines its cells wrap to; the last column reaching `body_right`)."""
    line = lines[i]
    for (_, top, x1, bottom), rows in header_rows:
        if top - SETTINGS.line_tolerance_pt <= line.top <= bottom:
            boundaries = (*(cell[0] for cell in rows[0] if cell), x1)
            if len(boundaries) < MIN_BOUNDARIES:
                return None
            first = next((k for k in range(i, len(lines)) if lines[k].top >= bottom - SETTINGS.line_tolerance_pt),
                         len(lines))
            return _Header(boundaries, top, bottom, first)
    segments = _segments(line)
    if len(segments) < MIN_BOUNDARIES - 1 or not header([" ".join(w["text"] for w in s) for s in segments]):
        return None
    boundaries = (*(s[0]["x0"] - SETTINGS.cell_padding_pt for s in segments),
                  max(body_right, line.words[-1]["x1"] + SETTINGS.cell_padding_pt))
    k = i + 1
    while (k < len(lines) and not _crosses(lines[k], boundaries) and not _opens_row(lines, k, i, boundaries)
           and not _first_column_capital(lines[k], boundaries)):
        k += 1
    return _Header(boundaries, line.top - SETTINGS.line_tolerance_pt, lines[k - 1].bottom, k)


def _with_right_columns(found: _Header, body: list[_VLine]) -> tuple[float, ...]:
    """The header line's columns, and those it leaves empty on the right:
    where body lines start a word group right of other text of the header
    line's last column (the introduction's counts, "Nombre de
    participants : 2", right of their labels; the first row's region name
    runs over them, a merged cell). Starts within a column tolerance of
    one another are one column's."""
    last_start = found.boundaries[-2]
    starts = sorted(x for line in body for x in _starts_after(line, last_start))
    columns: list[list[float]] = []
    for x in starts:
        if columns and x - columns[-1][0] <= SETTINGS.column_tolerance_pt:
            columns[-1].append(x)
        else:
            columns.append([x])
    extra = [column[0] - SETTINGS.cell_padding_pt for column in columns if len(column) >= MIN_COLUMN_LINES]
    return (*found.boundaries[:-1], *extra, found.boundaries[-1])


def _starts_after(line: _VLine, column: float) -> list[float]:
    """Where the line starts word groups to the right of other text of the
    column that starts at `column` (a count beside its label): a group
    alone in that column is the column's own text, however indented."""
    starts = [segment[0]["x0"] for segment in _segments(line)]
    return [x for j, x in enumerate(starts) if any(column <= left < x for left in starts[:j])]


def _segments(line: _VLine) -> list[list[Word]]:
    """The line's words in groups set apart by blanks wider than a column
    gap (a bullet's indent aside)."""
    groups: list[list[Word]] = []
    for word in line.words:
        after_bullet = bool(groups) and len(groups[-1]) == 1 and _is_bullet(groups[-1][0]["text"])
        if groups and (after_bullet or word["x0"] - groups[-1][-1]["x1"] <= SETTINGS.column_gap * line.size):
            groups[-1].append(word)
        else:
            groups.append([word])
    return groups


def _is_bullet(text: str) -> bool:
    """A word that is a bullet glyph alone: the blank after it is its
    indent, not a column's gap."""
    return len(text) == 1 and starts_with_bullet(text + " x")


def _first_column_capital(line: _VLine, boundaries: Sequence[float]) -> bool:
    """Whether the first column opens with a capital on this line: below a
    header line, the first row's label ("Date(s) et lieu(x)…", "Garantir
    un égal accès…"), where a wrapped header cell goes on in lower case or
    in brackets ("concernée", "(parmi les 5)")."""
    first = _first_column(line, boundaries)
    return bool(first) and first[0]["text"][:1].isupper()


def _crosses(line: _VLine, boundaries: Sequence[float]) -> bool:
    """Whether the line is running text, no table line: a word starts left
    of the table or straddles a column boundary, or two words a space
    apart sit on either side of one (cells are set apart by their
    paddings)."""
    slack = SETTINGS.column_tolerance_pt
    inner = boundaries[1:-1]
    if any(w["x0"] < boundaries[0] - slack or any(w["x0"] < b < w["x1"] - slack for b in inner)
           for w in line.words):
        return True
    return any(b2["x0"] - b1["x1"] < SETTINGS.cell_gap * line.size and any(b1["x1"] <= b <= b2["x0"] for b in inner)
               for b1, b2 in zip(line.words, line.words[1:]))


def _extent(lines: list[_VLine], first: int, boundaries: Sequence[float], size: float,
            bottom_margin: float) -> int:
    """The index after the table's last line, from its first body line: a
    line of running text, set larger or far below ends it, and so does a
    line in the page's bottom margin set apart as a footer is (a table's
    own lines there follow closely)."""
    end = first
    while end < len(lines):
        line = lines[end]
        if _crosses(line, boundaries) or line.size > size + SETTINGS.size_tolerance_pt:
            break
        if end > first:
            gap = line.top - lines[end - 1].bottom
            if gap > SETTINGS.table_gap * size or (line.top > bottom_margin and gap > SETTINGS.max_line_gap * size):
                break
        end += 1
    return end


def _first_column(line: _VLine, boundaries: Sequence[float]) -> list[Word]:
    return [w for w in line.words if (w["x0"] + w["x1"]) / 2 < boundaries[1]]


def _opens_row(lines: list[_VLine], k: int, start: int, boundaries: Sequence[float]) -> bool:
    """Whether a row starts on lines[k] (lines[start] being the table's
    first): another column opens with a check box (one per row, as the
    introduction's participants are), the first column opens a paragraph
    (a bullet, or text with no first-column text above it since `start`,
    or below a blank wider than a line's), or it goes on while every
    other column that has text there opens a bulleted statement (the
    next row's theme, written without a bullet, set just below the last
    one's)."""
    line = lines[k]
    # The word groups of the other columns (a cell merged over two columns
    # is one group).
    others = [" ".join(w["text"] for w in segment) for segment in _segments(line)
              if segment[0]["x0"] >= boundaries[1] - SETTINGS.column_tolerance_pt]
    if any(text[:1] in BOXES for text in others):
        return True
    first = _first_column(line, boundaries)
    if not first:
        return False
    if starts_with_bullet(" ".join(w["text"] for w in first)):
        return True
    above = next((words for words in (_first_column(lines[j], boundaries) for j in range(k - 1, start - 1, -1))
                  if words), None)
    if not above or line.top - max(w["bottom"] for w in above) > SETTINGS.max_line_gap * line.size:
        return True
    return bool(others) and all(starts_with_bullet(text) for text in others)


def _grid(lines: list[_VLine], top: float, header_bottom: float | None, boundaries: Sequence[float],
          rules: list[BBox]) -> Grid:
    """The table's box and its cells' boxes: one row for the header, then
    one per band between horizontal rules, or per paragraph of the first
    column."""
    x0, x1 = boundaries[0], boundaries[-1]
    bottom = lines[-1].bottom + SETTINGS.line_tolerance_pt
    body_top = header_bottom if header_bottom is not None else top
    half = (x1 - x0) / 2
    starts = sorted({y for rx0, y, rx1, _ in rules
                     if rx0 <= x0 + half and rx1 >= x1 - half
                     and body_top + SETTINGS.line_tolerance_pt < y < bottom - SETTINGS.line_tolerance_pt})
    if not starts:
        body = [line for line in lines if line.top >= body_top - SETTINGS.line_tolerance_pt]
        starts = [body[k].top - SETTINGS.line_tolerance_pt for k in range(1, len(body))
                  if _opens_row(body, k, 0, boundaries)]
    # A band holding no line is no row: a rule drawn at the top of a page
    # above the rest of a cut row, or two rules close together.
    centres = [(line.top + line.bottom) / 2 for line in lines]
    edges = [top]
    for edge in sorted({*([header_bottom] if header_bottom is not None else []), *starts}):
        if any(edges[-1] < centre < edge for centre in centres):
            edges.append(edge)
    edges.append(bottom)
    rows = [_row_cells([line for line, centre in zip(lines, centres) if a <= centre < b], a, b, boundaries)
            for a, b in zip(edges, edges[1:])]
    return (x0, top, x1, bottom), rows


def _row_cells(lines: list[_VLine], top: float, bottom: float,
               boundaries: Sequence[float]) -> list[BBox | None]:
    """A row's cell boxes; a cell whose text runs over a column boundary
    (a merged cell: the introduction's date and place over two columns)
    spans it, the cell it covers is None, as pdfplumber gives them."""
    spanned = {k for k in range(1, len(boundaries) - 1)
               if any(w["x0"] < boundaries[k] < w["x1"] - SETTINGS.column_tolerance_pt
                      for line in lines for w in line.words)}
    cells: list[BBox | None] = []
    start = 0
    for k in range(1, len(boundaries)):
        if k in spanned:
            continue
        cells.append((boundaries[start], top, boundaries[k], bottom))
        cells.extend([None] * (k - start - 1))
        start = k
    return cells
