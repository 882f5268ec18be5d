"""Recognise the template's data tables by their header texts.

A column's role comes from its header words, not its position, so tables
whose columns were reordered, or whose headers were shortened, still parse.
The table's section follows from the roles it holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.model import Cell, Table
from pipeline.text import fold

THEME = "theme"

# Order matters: the first rule that matches a header wins. "Axes
# d'amélioration ou leviers permettant de répondre aux besoins
# correspondants aux irritants" names besoins and irritants too.
_COLUMN_RULES: list[tuple[str, re.Pattern[str]]] = [
    (THEME, re.compile(r"\bthemati|\btheme")),
    ("acteur", re.compile(r"\bacteurs?\b|^qui\b")),
    ("temporalite", re.compile(r"\btemporalit|\bquand\b|\becheance|\bcalendrier")),
    ("indicateur", re.compile(r"\bindicateur|facteurs? (?:cles )?de reussite")),
    ("action", re.compile(r"\bactions?\b|\bcomment\b")),
    ("levier", re.compile(r"\baxes?\b|\bleviers?\b|\bquoi\b|\bamelioration")),
    ("point_fort", re.compile(r"\bpoints? forts?\b|\breussites?\b")),
    ("besoin", re.compile(r"\bbesoins?\b")),
    ("irritant", re.compile(r"\birritants?\b|\bdifficultes?\b|\bfreins?\b")),
    ("retex", re.compile(r"\bretex\b|retours? d'experience")),
]


@dataclass(frozen=True)
class TableShape:
    section: str
    roles: tuple[str | None, ...]  # one per column; None = ignored column
    header_rows: int


def column_role(header: str) -> str | None:
    folded = fold(header)
    for role, pattern in _COLUMN_RULES:
        if pattern.search(folded):
            return role
    return None


def section_of(roles: set[str]) -> str | None:
    if "point_fort" in roles:
        return "diagnostic"
    if roles & {"acteur", "temporalite", "indicateur", "action"}:
        return "plan_action"
    if "besoin" in roles or ("levier" in roles and "irritant" in roles):
        return "projection"
    return None


def table_shape(table: Table) -> TableShape | None:
    """The section and column roles of a data table, from its header row."""
    for header_index, row in enumerate(table.rows[:2]):
        roles = tuple(_cell_role(cell) for cell in row)
        found = {role for role in roles if role}
        if THEME not in found or len(found) < 3:
            continue
        section = section_of(found)
        if section:
            return TableShape(section=section, roles=roles, header_rows=header_index + 1)
    return None


def _cell_role(cell: Cell) -> str | None:
    text = cell.text
    if not text or len(text) > 160:  # a header is short; a long cell is data
        return None
    return column_role(text)
