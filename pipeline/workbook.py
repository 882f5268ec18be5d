"""The contract's tables and the recurring statements in one Excel workbook.

Analysts filter and sort in Excel rather than read CSV files, so every
sheet has its header frozen, an autofilter and readable column widths; a
first « Synthèse » sheet gives the key figures.

Statements are untrusted text. A cell whose text starts with "=", "+",
"-" or "@" would be a formula to Excel (« =HYPERLINK(…) », « +33 1 23 »):
every text cell is stored as a string explicitly (data type "s", and the
quote prefix Excel itself sets when one types a leading apostrophe), so
no cell of this workbook is ever evaluated.

The file is written like the CSV files (`pipeline.export`): built in
memory, written to a temporary file beside the target, renamed over it.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipeline.aggregate import counted_ids
from pipeline.contract import COLUMNS, LIST_SEPARATOR
from pipeline.export import write_atomic_bytes
from pipeline.normalize.themes import THEMES

SUMMARY_SHEET = "Synthèse"
RECURRING_SHEET = "recurring_statements"
RECURRING_COLUMNS = COLUMNS["recurring_statements"]
FORMULA_PREFIXES = ("=", "+", "-", "@")
MAX_CELL_TEXT = 32767  # Excel's limit for one cell
MIN_WIDTH, MAX_WIDTH, SAMPLE_ROWS = 8, 70, 400
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="000091")
ROLE_LABELS = {"irritant": "Irritant", "point_fort": "Point fort", "besoin": "Besoin", "levier": "Levier",
               "action": "Action", "difficulte": "Difficulté"}
TOP_RECURRING = 10


def cell_value(value: object) -> object:
    """A Python value as the workbook stores it: numbers and booleans stay
    typed (analysts sum and filter them), lists are joined with " | " as in
    the CSV files, unknown is an empty cell, the rest is text."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (bool, int, float)):
        return value
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return cell_value(value.item())
    if isinstance(value, (list, tuple)):
        return LIST_SEPARATOR.join(str(v) for v in value) or None
    return str(value) if str(value) else None


def _clean_text(text: str) -> str:
    """Text Excel accepts: no control characters, at most 32,767 characters."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_TEXT]


def _write_row(sheet: Worksheet, row: int, values: Iterable[object]) -> None:
    """Write one row; every text cell is forced to a plain string."""
    for column, raw in enumerate(values, start=1):
        value = cell_value(raw)
        if isinstance(value, str):
            value = _clean_text(value)
        cell = sheet.cell(row=row, column=column, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # never "f": openpyxl would write "=…" as a formula
            if value.startswith(FORMULA_PREFIXES):
                cell.quotePrefix = True  # Excel keeps it text even when the cell is edited


def _format(sheet: Worksheet, n_columns: int, n_rows: int) -> None:
    """Frozen, styled header; autofilter over the whole table; widths from content."""
    sheet.freeze_panes = "A2"
    last = get_column_letter(max(n_columns, 1))
    sheet.auto_filter.ref = f"A1:{last}{max(n_rows, 1)}"
    for column in range(1, n_columns + 1):
        cell = sheet.cell(row=1, column=column)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(vertical="center")
        lengths = [
            len(str(value)) for (value,) in
            sheet.iter_rows(min_row=1, max_row=min(n_rows, SAMPLE_ROWS), min_col=column, max_col=column, values_only=True)
            if value is not None
        ]
        width = max(lengths, default=MIN_WIDTH) + 3  # room for the filter button
        sheet.column_dimensions[get_column_letter(column)].width = max(MIN_WIDTH, min(MAX_WIDTH, width))


def _table_sheet(workbook: Workbook, name: str, frame: pd.DataFrame, columns: list[str]) -> None:
    sheet = workbook.create_sheet(name)
    _write_row(sheet, 1, columns)
    n_rows = 1
    for n_rows, row in enumerate(frame.reindex(columns=columns).itertuples(index=False, name=None), start=2):
        _write_row(sheet, n_rows, row)
    _format(sheet, len(columns), n_rows)


def summary_rows(tables: dict[str, pd.DataFrame], recurring: pd.DataFrame) -> list[list[object]]:
    """The « Synthèse » sheet: key figures, then the most recurring statements."""
    documents = tables.get("documents", pd.DataFrame(columns=COLUMNS["documents"]))
    counted = counted_ids(documents) if not documents.empty else set()
    statuses = documents["status"].value_counts() if not documents.empty else pd.Series(dtype=int)

    def in_counted(name: str) -> int:
        frame = tables.get(name, pd.DataFrame())
        return int(frame["document_id"].isin(counted).sum()) if not frame.empty else 0

    participants = tables.get("participants_summary", pd.DataFrame())
    rows: list[list[object]] = [
        ["Chiffres clés", "Fichiers reçus", len(documents), "tous les fichiers du dossier source"],
        ["Chiffres clés", "Fichiers intégrés", int(statuses.get("ok", 0)), ""],
        ["Chiffres clés", "Fichiers partiels", int(statuses.get("partial", 0)), "sections manquantes"],
        ["Chiffres clés", "Fichiers rejetés", int(statuses.get("rejected", 0)), "voir l'onglet quarantine"],
        ["Chiffres clés", "Départements pris en compte", len(counted), "une restitution en vigueur par département"],
        ["Chiffres clés", "Énoncés analysés", in_counted("items"), "départements pris en compte"],
        ["Chiffres clés", "Actions de plans d'action", in_counted("actions"), "départements pris en compte"],
        ["Chiffres clés", "Participants déclarés",
         int(participants["total_count"].sum()) if not participants.empty else 0, "nombres indiqués (minimum)"],
        ["Chiffres clés", "Énoncés récurrents", len(recurring), "partagés par au moins deux départements"],
    ]
    for rank, group in enumerate(recurring.head(TOP_RECURRING).to_dict("records"), start=1):
        theme = THEMES.get(group["theme"], group["theme"])
        role = ROLE_LABELS.get(group["role"], group["role"])
        rows.append([
            "Énoncés les plus récurrents", f"{rank}. {role} — {theme}", int(group["n_departements"]),
            f"{group['representative']} (départements : {LIST_SEPARATOR.join(group['departements'])})",
        ])
    return rows


def build_workbook(tables: dict[str, pd.DataFrame], recurring: pd.DataFrame) -> Workbook:
    """The workbook in memory: Synthèse, the contract's tables, recurring_statements."""
    workbook = Workbook()
    summary = workbook.active
    summary.title = SUMMARY_SHEET
    _write_row(summary, 1, ["Rubrique", "Indicateur", "Valeur", "Précision"])
    rows = summary_rows(tables, recurring)
    for index, row in enumerate(rows, start=2):
        _write_row(summary, index, row)
    _format(summary, 4, len(rows) + 1)
    for name, columns in COLUMNS.items():
        if name == RECURRING_SHEET:
            continue  # written last, from its own argument
        _table_sheet(workbook, name, tables.get(name, pd.DataFrame(columns=columns)), columns)
    _table_sheet(workbook, RECURRING_SHEET, recurring, RECURRING_COLUMNS)
    return workbook


def write_workbook(path: Path, tables: dict[str, pd.DataFrame], recurring: pd.DataFrame) -> None:
    """Write the workbook atomically: readers see the old file or the new one, never half of one."""
    if recurring is None:
        recurring = pd.DataFrame(columns=RECURRING_COLUMNS)
    buffer = io.BytesIO()
    build_workbook(tables, recurring).save(buffer)
    write_atomic_bytes(Path(path), buffer.getvalue())
