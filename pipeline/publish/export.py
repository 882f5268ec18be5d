"""The contract's CSV files and their DuckDB copy.

The outputs are written into a folder nobody reads yet, then published as
one set (`pipeline.publish.folders`): these writers need not guard against readers
(files replaced in place use `pipeline.publish.atomic`).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from pipeline.contract import LIST_SEPARATOR
from pipeline.labels import code_lists, column_label
from pipeline.tables.column_labels import coded_columns
from pipeline.tables.schemas import COLUMNS, SCHEMAS, TEXT_TYPE, column_types

# DuckDB's label tables (`libelles_categories`…) and columns (`theme_libelle`, views `items_libelles`).
LABEL_TABLE_PREFIX = "libelles_"
COLUMN_LABELS_TABLE = "libelles_colonnes"
LABEL_SUFFIX = "_libelle"
LABELLED_VIEW_SUFFIX = "_libelles"


def format_value(value: object) -> str:
    """A Python value as the contract spells it in a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, float):
        if value != value:  # NaN from pandas means unknown
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.4f}".rstrip("0")
    return str(value)


def to_csv_text(frame: pd.DataFrame, columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in frame[columns].itertuples(index=False, name=None):
        writer.writerow([format_value(v) for v in row])
    return buffer.getvalue()


def write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> dict[str, Path]:
    """Write every contract table present in `tables` as <folder>/<name>.csv."""
    written = {}
    for name, frame in tables.items():
        path = folder / f"{name}.csv"
        path.write_text(to_csv_text(frame, COLUMNS[name]), encoding="utf-8", newline="")
        written[name] = path
    return written


def read_csv_sql(table: str, path: str) -> str:
    """DuckDB's query reading a contract CSV file with the types of
    `schemas.column_types` (`path`: an SQL string or parameter): every
    column is read as text but those typed otherwise, so that "01" and "2A"
    stay département codes. The DuckDB file and the data dictionary's
    snippet both use it."""
    typed = ", ".join(f"'{column}': '{kind}'" for column, kind in column_types(table).items() if kind != TEXT_TYPE)
    types = f", types = {{{typed}}}" if typed else ""
    return f"SELECT * FROM read_csv({path}, header = true, all_varchar = true{types})"


def write_duckdb(path: Path, csv_files: dict[str, Path]) -> None:
    """A DuckDB database holding the same tables as the CSV files, typed by
    `read_csv_sql`, with the French labels beside them: a table
    `libelles_<liste>(code, libelle, description)` per code list, the table
    `libelles_colonnes` (each column's French name, type and description),
    and per table with codes a view `<table>_libelles` that adds a
    `<colonne>_libelle` column after the table's own (a list of codes gives
    its labels joined with " | "), in the table's row order.

    Its content is reproducible (same tables, rows and types for the same
    CSV files), not its bytes: DuckDB's file layout is its own business.
    """
    import duckdb  # imported here: only the export needs it

    try:
        with duckdb.connect(str(path)) as con:
            for name, csv_path in csv_files.items():
                con.execute(f'CREATE TABLE "{name}" AS {read_csv_sql(name, "?")}', [str(csv_path)])
            for name, codes in code_lists().items():
                con.execute(f'CREATE TABLE "{LABEL_TABLE_PREFIX}{name}" '
                            "(code VARCHAR, libelle VARCHAR, description VARCHAR)")
                con.executemany(f'INSERT INTO "{LABEL_TABLE_PREFIX}{name}" VALUES (?, ?, ?)',
                                [[code, text, codes.descriptions.get(code)] for code, text in codes.labels.items()])
            con.execute(f'CREATE TABLE "{COLUMN_LABELS_TABLE}" '
                        "(table_csv VARCHAR, colonne VARCHAR, libelle VARCHAR, type VARCHAR, description VARCHAR)")
            con.executemany(f'INSERT INTO "{COLUMN_LABELS_TABLE}" VALUES (?, ?, ?, ?, ?)', [
                [name, column, column_label(name, column), kind, SCHEMAS[name].columns[column].description]
                for name in csv_files for column, kind in column_types(name).items()])
            for name in csv_files:
                if coded_columns(name):
                    con.execute(_labelled_view(name))
    finally:
        path.with_name(path.name + ".wal").unlink(missing_ok=True)


def _labelled_view(table: str) -> str:
    """The view `<table>_libelles`: the table, then each coded column's
    labels (an unknown code shows as itself), through a map per code list."""
    lists = {column: LABEL_TABLE_PREFIX + name for column, name in coded_columns(table).items()}
    shown = ", ".join(
        f"array_to_string(list_transform(string_split(t.\"{column}\", '{LIST_SEPARATOR}'), "
        f"lambda code: coalesce(\"{source}\".labels[code], code)), '{LIST_SEPARATOR}') AS \"{column}{LABEL_SUFFIX}\""
        for column, source in lists.items())
    maps = "".join(f', (SELECT map(list(code), list(libelle)) AS labels FROM "{source}") AS "{source}"'
                   for source in sorted(set(lists.values())))
    return (f'CREATE VIEW "{table}{LABELLED_VIEW_SUFFIX}" AS '
            f'SELECT t.*, {shown} FROM "{table}" AS t{maps} ORDER BY t.rowid')
