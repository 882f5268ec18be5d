"""Recognise the template's data tables by their header texts.

A column's role comes from its header words, not its position, so tables
whose columns were reordered, or whose headers were shortened, still parse.
The table's section follows from the roles it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from pipeline.contract import Role, Section
from pipeline.model import Cell, Line, Table
from pipeline.text import fold

# The theme column: it gives each row's theme, not statements.
THEME: Final = "theme"
ColumnRole: TypeAlias = Role | Literal["theme"]

# A header cell is short: a longer cell is data, whatever words it holds.
MAX_HEADER_CHARS = 160
# A header row names the theme column and at least two others: a data row
# may well mention a theme, or "les acteurs", in one cell. A header without
# a theme column names as many (`_themeless_roles`).
MIN_HEADER_ROLES = 3
# The header is a table's first row, or its second below a title row.
HEADER_SEARCH_ROWS = 2

# Order matters: the first rule that matches a header wins. "Axes
# d'amélioration ou leviers permettant de répondre aux besoins
# correspondants aux irritants" names besoins and irritants too.
_COLUMN_RULES: list[tuple[ColumnRole, re.Pattern[str]]] = [
    (THEME, re.compile(r"\bthemati|\btheme")),
    (Role.ACTEUR, re.compile(r"\bacteurs?\b|^qui\b")),
    (Role.TEMPORALITE, re.compile(r"\btemporalit|\bquand\b|\becheance|\bcalendrier")),
    (Role.INDICATEUR, re.compile(r"\bindicateur|facteurs? (?:cles )?de reussite")),
    (Role.ACTION, re.compile(r"\bactions?\b|\bcomment\b")),
    (Role.LEVIER, re.compile(r"\baxes?\b|\bleviers?\b|\bquoi\b|\bamelioration")),
    (Role.POINT_FORT, re.compile(r"\bpoints? forts?\b|\breussites?\b")),
    (Role.BESOIN, re.compile(r"\bbesoins?\b")),
    (Role.IRRITANT, re.compile(r"\birritants?\b|\bdifficultes?\b|\bfreins?\b")),
    (Role.RETEX, re.compile(r"\bretex\b|retours? d'experience")),
]


@dataclass(frozen=True)
class TableShape:
    section: Section
    roles: tuple[ColumnRole | None, ...]  # one per column; None = ignored column
    header_rows: int


def column_role(header: str) -> ColumnRole | None:
    folded = fold(header)
    for role, pattern in _COLUMN_RULES:
        if pattern.search(folded):
            return role
    return None


def section_of(roles: set[ColumnRole]) -> Section | None:
    if Role.POINT_FORT in roles:
        return Section.DIAGNOSTIC
    if roles & {Role.ACTEUR, Role.TEMPORALITE, Role.INDICATEUR, Role.ACTION}:
        return Section.PLAN_ACTION
    if Role.BESOIN in roles or (Role.LEVIER in roles and Role.IRRITANT in roles):
        return Section.PROJECTION
    return None


def table_shape(table: Table) -> TableShape | None:
    """The section and column roles of a data table, from its header row.

    A header of two rows names some columns in its first row only: a
    cell merged down over both ("Thématique" beside a "Plan d'action" title
    over Quoi, Comment, Qui…) is read in its first row, empty in the second.
    """
    above: tuple[ColumnRole | None, ...] = ()
    for header_index, row in enumerate(table.rows[:HEADER_SEARCH_ROWS]):
        own = _header_roles(row)
        roles = tuple(
            above[k] if role is None and not cell.text and k < len(above) else role
            for k, (role, cell) in enumerate(zip(own, row))
        )
        above = own
        found = _named_roles(roles) or _themeless_roles(roles, row)
        if found is None:
            continue
        section = section_of(found)
        if section:
            return TableShape(section=section, roles=roles, header_rows=header_index + 1)
    return None


def names_columns(texts: list[str]) -> bool:
    """Whether a row of these cell texts is a data table's header: what the
    PDF reader asks of a table drawn without vertical rules."""
    row = [Cell(lines=[Line(text)]) for text in texts]
    return table_shape(Table(rows=[row], index=0)) is not None


def is_header_row(row: list[Cell]) -> bool:
    """A row that reads as a header: the template's header repeated inside
    the table (a Word table split by hand, a header repeated on each page)."""
    return _named_roles(_header_roles(row)) is not None


def _header_roles(row: list[Cell]) -> tuple[ColumnRole | None, ...]:
    return tuple(_cell_role(cell) for cell in row)


def _named_roles(roles: tuple[ColumnRole | None, ...]) -> set[ColumnRole] | None:
    """The roles a header row names, or None when the row is no header."""
    found = {role for role in roles if role}
    return found if THEME in found and len(found) >= MIN_HEADER_ROLES else None


def _themeless_roles(roles: tuple[ColumnRole | None, ...], row: list[Cell]) -> set[ColumnRole] | None:
    """The roles of a header without a theme column (the themes written in
    banner rows or above the table), or None. Only a table's first rows are
    read so: every cell of text must then name a column, since a data row
    may well name three roles among its statements ("Difficultés…",
    "Besoin de…", "Amélioration…"); inside a table, a repeated header is
    known by its theme column (`is_header_row`)."""
    found = {role for role in roles if role}
    if len(found) < MIN_HEADER_ROLES or not all(role or not cell.text for role, cell in zip(roles, row)):
        return None
    return found


def _cell_role(cell: Cell) -> ColumnRole | None:
    text = cell.text
    if not text or len(text) > MAX_HEADER_CHARS:
        return None
    return column_role(text)
