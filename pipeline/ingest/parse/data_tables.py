"""Data tables: diagnostic, projection and plan d'action.

A table is known by its header (`columns.py`). A table without one, of as
many columns as the last data table, continues that table (a table split
by hand, or across pages where the reader could not stitch it) unless a
heading came between. Each row gives one item per statement of each of
its columns, all of the row's theme; a plan d'action row gives an action
row too.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.contract import LIST_SEPARATOR, Role, Section
from pipeline.ingest.normalize.actors import actor_codes
from pipeline.ingest.normalize.temporalite import temporalite_code
from pipeline.ingest.normalize.themes import UNKNOWN, ThemeMatch, named_theme, resolve_theme
from pipeline.ingest.parse.columns import THEME, TableShape, is_header_row, table_shape
from pipeline.ingest.parse.found import Found
from pipeline.model import ActionRow, Cell, Item, Line, Table
from pipeline.text import Statement, split_statements, strip_bullet

# A row whose theme cell is empty, with no theme above it to carry down.
_NO_THEME = ThemeMatch(UNKNOWN, 0.0, "vide")


@dataclass(frozen=True)
class _Theme:
    raw: str  # the theme cell's text as written (items.theme_raw)
    match: ThemeMatch


@dataclass(frozen=True)
class _Row:
    """One data row, read by column role."""

    index: int  # in the table, header rows included (items.row_index)
    theme_lines: list[Line]  # of the theme cells, in column order
    # Each other column's statements, by column index; roles in column order.
    columns: dict[Role, list[tuple[int, list[Statement]]]]

    def texts(self, role: Role) -> list[str]:
        return [statement.text for _, statements in self.columns.get(role, []) for statement in statements]


@dataclass
class DataTables:
    """The data-table handler: what a table hands down to the next one,
    and a row to the rows below it."""

    # The last data table's shape: the shape of a header-less table that continues it.
    shape: TableShape | None = None
    # The last theme read in the current table: the theme of a row whose
    # theme cell is empty (a vertically merged cell, read once).
    theme: _Theme | None = None
    # The theme named by the paragraph just above: the theme of the next
    # table's first rows if that table has no theme column.
    named: _Theme | None = None

    def paragraph(self, text: str, heading: bool, taken: bool) -> None:
        """A paragraph between tables. After a heading, a header-less table
        is no continuation. A line that names a theme on its own ("Thème 1 :
        Garantir un égal accès…") is remembered for the next table; any
        other paragraph, or one another handler took, forgets it."""
        if heading and not taken:
            self.shape = None
        match = None if taken else named_theme(text)
        self.named = _Theme(text, match) if match else None

    def take(self, table: Table, found: Found) -> None:
        """Read a data table's rows into items (and action rows); any other table gives nothing."""
        shape, named, self.named = table_shape(table), self.named, None
        if shape is not None:
            first_row = shape.header_rows
            self.theme = None
        elif self.shape is not None and table.rows and len(table.rows[0]) == len(self.shape.roles):
            shape, first_row = self.shape, 0
        else:
            return
        if named and THEME not in shape.roles:
            self.theme = named
        self.shape = shape
        found.sections.add(shape.section)
        for r, cells in _joined_rows(table, shape, first_row):
            banner = _banner(shape, cells)
            if banner:
                self.theme = banner
                continue
            row = _read_row(shape, r, cells)
            if row is None:
                if not is_header_row(cells):
                    self._theme_of(_theme_lines(shape, cells))
                continue
            theme = self._theme_of(row.theme_lines)
            found.items.extend(_items(table, shape.section, row, theme))
            if shape.section is Section.PLAN_ACTION:
                found.actions.append(_action_row(theme.match.code, row))

    def _theme_of(self, theme_lines: list[Line]) -> _Theme:
        """A row's theme: its own theme cell's, else the last one above it.

        A row of a theme and no statements sets the theme too: the theme
        written as a banner, a full-width merged row above its rows (the
        reader gives a merged cell's text to its first column, the
        theme's), the rows below leaving their theme cells empty.
        """
        raw = " ".join(line.text for line in theme_lines).strip()
        # A theme cell holding only a bullet is empty: a row added below a
        # bulleted theme cell keeps its list format, and a PDF shows the
        # bullet of the empty paragraph.
        label = _theme_label(theme_lines)
        if label:
            self.theme = _Theme(raw, resolve_theme(label))
            return self.theme
        return self.theme or _Theme(raw, _NO_THEME)


def _banner(shape: TableShape, cells: list[Cell]) -> _Theme | None:
    """In a table without a theme column, a row that only names a theme:
    the theme written as a banner, a full-width merged row above its rows
    (the reader gives a merged cell's text to its first column)."""
    if THEME in shape.roles or not cells or any(cell.text for cell in cells[1:]):
        return None
    match = named_theme(_theme_label(cells[0].lines))
    return _Theme(cells[0].text, match) if match else None


# What may open a theme cell's text before its first word.
_OPENING_MARKS = "([«\"'“‘ "


def _joined_rows(table: Table, shape: TableShape, first_row: int) -> list[tuple[int, list[Cell]]]:
    """The rows below the header, each row cut by a page break joined back
    to the row above; a cut header's rest is dropped."""
    rows: list[tuple[int, list[Cell]]] = []
    for r in range(first_row, len(table.rows)):
        cells = table.rows[r]
        if r in table.continued_rows and _continues(shape, rows[-1][1] if rows else None, cells):
            if rows:
                rows[-1] = (rows[-1][0], _merge_rows(rows[-1][1], cells))
            continue
        rows.append((r, cells))
    return rows


def _continues(shape: TableShape, previous: list[Cell] | None, row: list[Cell]) -> bool:
    """Whether a row opening a new page is the rest of the row above.

    Its theme cell decides: empty or starting in lower case, after any
    opening bracket or quote, it goes on ("(parmi les 5)", the rest of a
    header the page break cut, is dropped so); naming no theme or the
    same theme as the row above, it is the label's tail ("…RESPONSABLE
    ET | SOUVERAIN"); naming another theme, it is a new row. A table
    without a theme column has no such cell: there the row goes on when
    one of its cells opens in lower case, mid-sentence, and not when it
    is a banner or every cell opens a statement of its own.
    """
    if THEME not in shape.roles:
        openings = [line.text.lstrip(_OPENING_MARKS) for cell in row for line in cell.lines[:1] if cell.text]
        return _banner(shape, row) is None and (not openings or any(o[:1].islower() for o in openings))
    theme = _theme_label(_theme_lines(shape, row))
    if not theme or theme.lstrip(_OPENING_MARKS)[:1].islower():
        return True
    if previous is None:
        return False
    current = resolve_theme(theme).code
    return current == UNKNOWN or current == resolve_theme(_theme_label(_theme_lines(shape, previous))).code


def _merge_rows(upper: list[Cell], lower: list[Cell]) -> list[Cell]:
    """Glue the two halves of a row cut by a page break, cell by cell. The
    reader, which sees the page, has said whether a half's first line goes
    on with the statement the break cut (its `new_paragraph`)."""
    merged = []
    for k in range(max(len(upper), len(lower))):
        lines = list(upper[k].lines) if k < len(upper) else []
        tail = list(lower[k].lines) if k < len(lower) else []
        merged.append(Cell(lines=lines + tail))
    return merged


def _read_row(shape: TableShape, r: int, cells: list[Cell]) -> _Row | None:
    """A row by column role; None for a repeated header or a row without statements."""
    if is_header_row(cells):
        return None
    columns: dict[Role, list[tuple[int, list[Statement]]]] = {}
    for k, role in enumerate(shape.roles):
        if isinstance(role, Role) and k < len(cells):
            columns.setdefault(role, []).append((k, split_statements(cells[k].lines)))
    if not any(statements for column in columns.values() for _, statements in column):
        return None
    return _Row(index=r, theme_lines=_theme_lines(shape, cells), columns=columns)


def _theme_lines(shape: TableShape, cells: list[Cell]) -> list[Line]:
    return [line for k, role in enumerate(shape.roles) if role == THEME and k < len(cells) for line in cells[k].lines]


def _theme_label(lines: list[Line]) -> str:
    """The theme cell's text without its bullets, as the theme is resolved from."""
    return " ".join(strip_bullet(line.text) for line in lines).strip()


def _items(table: Table, section: Section, row: _Row, theme: _Theme) -> list[Item]:
    """One item per statement of the row, column by column."""
    page = table.page_of_row(row.index)
    return [
        Item(
            section=section, role=role, text=statement.text,
            theme=theme.match.code, theme_raw=theme.raw, theme_confidence=theme.match.confidence,
            table_index=table.index, row_index=row.index, column=k, position=position,
            page=statement.page or page,
        )
        for role, columns in row.columns.items()
        for k, statements in columns
        for position, statement in enumerate(statements)
    ]


def _action_row(theme: str, row: _Row) -> ActionRow:
    """A plan d'action row: its columns as lists, actors and time frame as codes too."""
    acteurs = row.texts(Role.ACTEUR)
    temporalites = row.texts(Role.TEMPORALITE)
    return ActionRow(
        theme=theme,
        quoi=row.texts(Role.LEVIER),
        comment=row.texts(Role.ACTION),
        acteurs=actor_codes("\n".join(acteurs)),
        acteurs_raw=LIST_SEPARATOR.join(acteurs),
        temporalite=temporalite_code(temporalites[0]) if temporalites else None,
        temporalite_raw=LIST_SEPARATOR.join(temporalites),
        indicateurs=row.texts(Role.INDICATEUR),
    )
