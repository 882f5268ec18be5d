"""The contract's tables and the recurring statements in one Excel workbook.

Analysts filter and sort in Excel rather than read CSV files, so every
sheet has its header frozen, an autofilter and readable column widths; a
first « Synthèse » sheet gives the key figures.

Statements are untrusted text. A cell whose text starts with "=", "+",
"-" or "@" would be a formula to Excel (« =HYPERLINK(…) », « +33 1 23 »):
such a text is stored as a string explicitly (data type "s", and the
quote prefix Excel itself sets when one types a leading apostrophe), so
no cell of this workbook is ever evaluated.

The same tables give the same bytes: the document properties carry the
time the newest file was first seen (`ingested_at`), not the time of the
run, and every part of the zip has a fixed date. A rerun on unchanged
inputs thus publishes an identical workbook.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.writer.excel import ExcelWriter

from pipeline.aggregate import counted_ids
from pipeline.contract import COLUMNS, LIST_SEPARATOR
from pipeline.corrections import CHOICE_SEPARATOR
from pipeline.labels import ROLE_LABELS, THEME_LABELS, category_labels
from pipeline.normalize.themes import THEMES

SUMMARY_SHEET = "Synthèse"
REVIEW_SHEET = "À vérifier"
LISTS_SHEET = "Listes"
RECURRING_SHEET = "recurring_statements"
RECURRING_COLUMNS = COLUMNS["recurring_statements"]
FORMULA_PREFIXES = ("=", "+", "-", "@")
MAX_CELL_TEXT = 32767  # Excel's limit for one cell
MIN_WIDTH, MAX_WIDTH, SAMPLE_ROWS = 8, 70, 400
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="000091")
TOP_RECURRING = 10
# The date of every zip entry (the zip format's earliest), and of the
# document when there is no file at all.
FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
NO_DATA_DATE = datetime(2020, 1, 1)


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


def _values(raw_row: Iterable[object]) -> list[object]:
    values = []
    for raw in raw_row:
        value = cell_value(raw)
        values.append(_clean_text(value) if isinstance(value, str) else value)
    return values


def _guarded(sheet, values: list[object]) -> list[object]:
    """A text Excel would read as a formula becomes an explicit string cell
    (data type "s", never "f") with the quote prefix Excel keeps when the
    cell is edited; every other value goes in as it is."""
    row: list[object] = []
    for value in values:
        if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            cell.quotePrefix = True
            value = cell
        row.append(value)
    return row


def _write_sheet(workbook: Workbook, name: str, header: list[str], raw_rows: Iterable[Iterable[object]]):
    """A sheet with a frozen, styled header, an autofilter over the whole
    table and widths from its first rows, all set before the rows are
    streamed: write-only mode keeps time and memory proportional to the data."""
    sheet = workbook.create_sheet(name)
    rows = [_values(raw) for raw in raw_rows]
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{len(rows) + 1}"
    sample = [header, *rows[:SAMPLE_ROWS]]
    for index in range(len(header)):
        lengths = [len(str(row[index])) for row in sample if row[index] is not None]
        width = max(lengths, default=MIN_WIDTH) + 3  # room for the filter button
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(MIN_WIDTH, min(MAX_WIDTH, width))
    titles = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, Alignment(vertical="center")
        titles.append(cell)
    sheet.append(titles)
    for values in rows:
        sheet.append(_guarded(sheet, values))
    return sheet


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


def choice(code: str, label: str) -> str:
    """A drop-down entry, which `pipeline.corrections.parse_code` reads back as its code."""
    return f"{code}{CHOICE_SEPARATOR}{label}"


def _choice_lists() -> dict[str, list[str]]:
    """The drop-down lists of the review sheet's correction columns, by column."""
    categories = [choice(code, label) for code, label in category_labels().items()]
    return {
        "category_corrected": categories,
        "categories_corrected": categories,
        "theme_corrected": [choice(code, label) for code, label in THEME_LABELS.items()],
        "role_corrected": [choice(code, label) for code, label in ROLE_LABELS.items()],
        "exclude": ["oui"],
    }


_PROMPTS = {
    "category_corrected": "La catégorie principale correcte.",
    "categories_corrected": "Toutes les catégories correctes, la principale d'abord : choisissez-en une ou "
                            "tapez plusieurs codes séparés par « | ».",
    "theme_corrected": "Le thème correct.",
    "role_corrected": "Le rôle correct.",
    "exclude": "« oui » retire l'énoncé de items.csv et de tous les agrégats.",
}


def _review_sheet(workbook: Workbook, queue: pd.DataFrame) -> None:
    """The « À vérifier » sheet (the review queue), whose drop-down lists are
    on the hidden sheet « Listes » (`_lists_sheet`): an analyst fills in the *_corrected columns by
    picking « code — libellé » entries (or typing a code) and drops the
    workbook, or this sheet saved alone, into the corrections folder.
    Entries outside a list only raise a warning: several categories, or a
    code typed by hand, are valid too."""
    columns = COLUMNS["review_queue"]
    sheet = _write_sheet(workbook, REVIEW_SHEET, columns, queue.reindex(columns=columns).itertuples(index=False, name=None))
    lists = _choice_lists()
    last_row = max(len(queue), 1) + 1
    for index, (column, values) in enumerate(lists.items(), start=1):
        letter, target = get_column_letter(index), get_column_letter(columns.index(column) + 1)
        validation = DataValidation(
            type="list", formula1=f"{LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}", allow_blank=True,
            showInputMessage=True, promptTitle="Correction", prompt=_PROMPTS[column],
            showErrorMessage=True, errorStyle="warning", errorTitle="Valeur hors liste",
            error="Cette valeur n'est pas dans la liste : elle sera refusée si ce n'est pas un code du contrat.",
        )
        validation.add(f"{target}2:{target}{last_row}")
        sheet.data_validations.append(validation)


def _lists_sheet(workbook: Workbook) -> None:
    """The drop-down lists, one column each, in the order of `_choice_lists`; hidden."""
    lists = _choice_lists()
    longest = max(len(values) for values in lists.values())
    sheet = _write_sheet(workbook, LISTS_SHEET, list(lists),
                         ([values[i] if i < len(values) else None for values in lists.values()] for i in range(longest)))
    sheet.sheet_state = "hidden"


def build_workbook(tables: dict[str, pd.DataFrame], recurring: pd.DataFrame) -> Workbook:
    """The workbook in memory: « À vérifier » first (so that the workbook
    itself is a valid corrections file, whose first sheet is read), Synthèse,
    the contract's tables, recurring_statements, and the hidden lists."""
    workbook = Workbook(write_only=True)
    _review_sheet(workbook, tables.get("review_queue", pd.DataFrame(columns=COLUMNS["review_queue"])))
    _write_sheet(workbook, SUMMARY_SHEET, ["Rubrique", "Indicateur", "Valeur", "Précision"],
                 summary_rows(tables, recurring))
    for name, columns in COLUMNS.items():
        if name in (RECURRING_SHEET, "review_queue"):
            continue  # written last, from its own argument; written first, as « À vérifier »
        frame = tables.get(name, pd.DataFrame(columns=columns))
        _write_sheet(workbook, name, columns, frame.reindex(columns=columns).itertuples(index=False, name=None))
    _write_sheet(workbook, RECURRING_SHEET, RECURRING_COLUMNS,
                 recurring.reindex(columns=RECURRING_COLUMNS).itertuples(index=False, name=None))
    _lists_sheet(workbook)
    return workbook


def workbook_bytes(tables: dict[str, pd.DataFrame], recurring: pd.DataFrame | None) -> bytes:
    """The .xlsx file: identical bytes for identical tables."""
    if recurring is None:
        recurring = pd.DataFrame(columns=RECURRING_COLUMNS)
    workbook = build_workbook(tables, recurring)
    workbook.properties.created = workbook.properties.modified = _data_time(tables)
    buffer = io.BytesIO()
    # ExcelWriter rather than Workbook.save, which stamps "modified" with the current time.
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()
    return _with_fixed_dates(buffer.getvalue())


def write_workbook(path: Path, tables: dict[str, pd.DataFrame], recurring: pd.DataFrame | None) -> None:
    Path(path).write_bytes(workbook_bytes(tables, recurring))


def _data_time(tables: dict[str, pd.DataFrame]) -> datetime:
    """When the newest file of the tables was first seen (naive UTC, as openpyxl stores it)."""
    documents = tables.get("documents")
    times = pd.to_datetime(documents["ingested_at"], utc=True, errors="coerce").dropna() if documents is not None else []
    return times.max().to_pydatetime().replace(tzinfo=None) if len(times) else NO_DATA_DATE


def _with_fixed_dates(data: bytes) -> bytes:
    """The same zip with every entry dated FIXED_ZIP_DATE (zipfile stamps
    each part with the time it was written)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as target:
        for entry in source.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=FIXED_ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(entry))
    return out.getvalue()
