"""The contract's tables as analysts read them: each column's French
header and, for a column of codes, the list its codes come from (the
workbook shows a coded column twice, codes then labels; the DuckDB file
adds a label column to it).

Apart from pipeline/labels.py because it needs the tables' columns, hence
their pandera models: the extraction workers import the labels (section
names in their messages), and their cached results depend on the modules
they import, not on the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from pipeline.labels import CODE_HEADER, column_label
from pipeline.tables.schemas import COLUMNS

# Which code list a column's codes belong to: by column name, then the
# tables where the same name holds other codes.
_CODED_COLUMNS = {
    "theme": "themes", "themes": "themes", "role": "roles", "section": "sections", "category": "categories",
    "categories": "categories", "acteurs": "acteurs", "actor": "acteurs", "temporalite": "temporalites",
    "status": "statuts", "reason": "raisons", "format": "formats_de_fichier", "session_format": "formats_de_session",
    "category_source": "sources_de_categorie",
}
_CODED_IN_TABLE = {
    "participants": {"category": "participants"},
    "participants_summary": {"category": "participants"},
    "corrections_applied": {"status": "statuts_de_correction"},
}


def coded_columns(table: str) -> dict[str, str]:
    """The columns of a contract table that hold codes (or lists of codes), with their code list's name."""
    coded = {**_CODED_COLUMNS, **_CODED_IN_TABLE.get(table, {})}
    return {column: coded[column] for column in COLUMNS[table] if column in coded}


@dataclass(frozen=True)
class SheetColumn:
    """A column of a table as analysts see it: a coded column shows twice,
    its codes (« Thème (code) ») then their labels (« Thème »)."""

    header: str
    column: str  # the contract column it shows
    code_list: str | None = None  # for a coded column, the name of its code list
    labelled: bool = False  # the labels of the column's codes rather than its values


@cache
def sheet_columns(table: str) -> tuple[SheetColumn, ...]:
    """The French columns of a contract table, in the contract's order, each coded column followed by its labels."""
    coded = coded_columns(table)
    columns: list[SheetColumn] = []
    for column in COLUMNS[table]:
        header = column_label(table, column)
        if column in coded:
            columns += [SheetColumn(CODE_HEADER.format(header), column, coded[column]),
                        SheetColumn(header, column, coded[column], labelled=True)]
        else:
            columns.append(SheetColumn(header, column))
    return tuple(columns)
