"""The contract's tables and the recurring statements in one Excel workbook, in French.

Analysts filter and sort in Excel rather than read CSV files, so the
workbook speaks their language: French sheet names and headers (frozen,
with an autofilter, readable widths), every coded column followed by its
French labels (« Thème (code) », then « Thème »), dates and times as real
Excel dates in Paris time, shares and confidences as percentages, long
texts wrapped, and a title and an author. The codes of the CSV files stay
at hand: the « Codes et libellés » sheet gives, for each sheet, every
header with its CSV column and description, then every code list with
its labels. A « Synthèse » sheet gives the key figures. Headers, sheet
names and labels all come from `pipeline.labels`.

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
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.writer.excel import ExcelWriter

from pipeline.contract import LIST_SEPARATOR
from pipeline.ingest.normalize.themes import THEMES
from pipeline.labels import (
    ROLE_LABELS,
    SHEET_NAMES,
    THEME_LABELS,
    WORKBOOK_PROPERTIES,
    category_labels,
    code_lists,
    column_label,
    label,
)
from pipeline.tables.aggregate import counted_ids
from pipeline.tables.column_labels import SheetColumn, sheet_columns
from pipeline.tables.corrections import CHOICE_SEPARATOR, EXCLUDE
from pipeline.tables.schemas import COLUMN_TYPES, COLUMNS, SCHEMAS

if TYPE_CHECKING:  # the sheets of a write-only workbook
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

REVIEW_TABLE, RECURRING_TABLE = "review_queue", "recurring_statements"
SUMMARY_SHEET = SHEET_NAMES["synthese"]
REVIEW_SHEET = SHEET_NAMES[REVIEW_TABLE]
RECURRING_SHEET = SHEET_NAMES[RECURRING_TABLE]
CODES_SHEET = SHEET_NAMES["codes"]
LISTS_SHEET = SHEET_NAMES["listes"]
RECURRING_COLUMNS = COLUMNS[RECURRING_TABLE]
FORMULA_PREFIXES = ("=", "+", "-", "@")
MAX_CELL_TEXT = 32767  # Excel's limit for one cell
MIN_WIDTH, MAX_WIDTH, SAMPLE_ROWS = 8, 70, 400
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="000091")
TOP_RECURRING = 10
PARIS = "Europe/Paris"
# The date of every zip entry (the zip format's earliest), and of the
# document when there is no file at all.
FIXED_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
NO_DATA_DATE = datetime(2020, 1, 1)

# Cell styles, named as Excel's style gallery shows them (apart from its own
# « Date », « Pourcentage »…). The number formats are Excel's own codes,
# which a French Excel shows as « jj/mm/aaaa hh:mm » and « 13,6 % ».
DATE_STYLE, TIME_STYLE, PERCENT_STYLE, WRAP_STYLE = "Date EGN", "Date et heure EGN", "Pourcentage EGN", "Texte long EGN"
# The contract's shares and confidences, all between 0 and 1.
PERCENT_COLUMNS = ("share_departements", "category_score", "ocr_confidence")
# Statements, messages and lists long enough to need several lines (a
# statement's two or three categories fit on one: a styled cell costs time).
WRAPPED_COLUMNS = ("text", "message", "examples", "representative", "quoi", "comment", "indicateurs", "why",
                   "acteurs_raw", "temporalite_raw", "acteurs", "themes")
# The « Codes et libellés » sheet: its headers and the two kinds of rows.
CODES_HEADER = ["Type", "Feuille ou liste", "Code", "Libellé", "Description"]
COLUMN_ROW, CODE_ROW = "Colonne", "Code"


def _named_styles() -> list[NamedStyle]:
    """The workbook's cell styles (new objects: a style belongs to one workbook)."""
    return [
        NamedStyle(DATE_STYLE, number_format="dd/mm/yyyy"),
        NamedStyle(TIME_STYLE, number_format="dd/mm/yyyy hh:mm"),
        NamedStyle(PERCENT_STYLE, number_format="0.0%"),
        NamedStyle(WRAP_STYLE, alignment=Alignment(wrap_text=True, vertical="top")),
    ]


# What a cell holds (bool is an int, datetime a date).
CellValue = str | int | float | date | None


def cell_value(value: object) -> CellValue:
    """A Python value as the workbook stores it: numbers, booleans and dates
    stay typed (analysts sum, filter and sort them), lists are joined with
    " | " as in the CSV files, unknown is an empty cell, the rest is text."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (bool, int, float, date)):
        return value
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        return cell_value(value.item())
    if isinstance(value, (list, tuple)):
        return LIST_SEPARATOR.join(str(v) for v in value) or None
    return str(value) if str(value) else None


def _clean_text(text: str) -> str:
    """Text Excel accepts: no control characters, at most 32,767 characters."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)[:MAX_CELL_TEXT]


def _values(raw_row: Iterable[object]) -> list[CellValue]:
    values: list[CellValue] = []
    for raw in raw_row:
        value = cell_value(raw)
        values.append(_clean_text(value) if isinstance(value, str) else value)
    return values


def _cells(sheet: WriteOnlyWorksheet, values: list[CellValue], styles: list[str | None]) -> list[object]:
    """A row as appended: a text Excel would read as a formula becomes an
    explicit string cell (data type "s", never "f") with the quote prefix
    Excel keeps when the cell is edited; a value of a styled column becomes
    a cell of that style; every other value goes in as it is (write-only
    mode is fastest with bare values)."""
    row: list[object] = []
    for value, style in zip(values, styles):
        formula_like = isinstance(value, str) and value.startswith(FORMULA_PREFIXES)
        if value is None or not (style or formula_like):
            row.append(value)
            continue
        cell = WriteOnlyCell(sheet, value=value)  # type: ignore[arg-type]  # types-openpyxl omits date
        if style:
            cell.style = style
        if formula_like:
            cell.data_type = "s"
            cell.quotePrefix = True
        row.append(cell)
    return row


def _write_sheet(workbook: Workbook, name: str, columns: list[tuple[str, str | None]],
                 raw_rows: Iterable[Iterable[object]]) -> WriteOnlyWorksheet:
    """A sheet of (header, style) columns with a frozen, styled header, an
    autofilter over the whole table and widths from its first rows, all set
    before the rows are streamed: write-only mode keeps time and memory
    proportional to the data."""
    sheet: WriteOnlyWorksheet = workbook.create_sheet(name)
    header = [title for title, _ in columns]
    styles = [style for _, style in columns]
    rows = [_values(raw) for raw in raw_rows]
    sheet.freeze_panes = "A2"
    # A write-only sheet has the worksheet's auto_filter, column_dimensions,
    # data_validations and sheet_state, which types-openpyxl leaves out.
    sheet.auto_filter.ref = f"A1:{get_column_letter(max(len(header), 1))}{len(rows) + 1}"  # type: ignore[attr-defined]
    sample: list[Sequence[CellValue]] = [header, *rows[:SAMPLE_ROWS]]
    for index in range(len(header)):
        lengths = [len(_shown_text(row[index])) for row in sample if row[index] is not None]
        width = max(lengths, default=MIN_WIDTH) + 3  # room for the filter button
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(MIN_WIDTH, min(MAX_WIDTH, width))  # type: ignore[attr-defined]
    titles = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font, cell.fill, cell.alignment = HEADER_FONT, HEADER_FILL, Alignment(vertical="center")
        titles.append(cell)
    sheet.append(titles)
    for values in rows:
        sheet.append(_cells(sheet, values, styles))
    return sheet


def _shown_text(value: object) -> str:
    """About what a cell shows, for its column's width: a date as « 01/12/2020 10:30 »."""
    if isinstance(value, datetime):
        return "00/00/0000 00:00"
    if isinstance(value, date):
        return "00/00/0000"
    return str(value)


# --------------------------------------------------------------------------
# The contract's tables, in French
# --------------------------------------------------------------------------


def _style(column: SheetColumn) -> str | None:
    if column.labelled:
        return WRAP_STYLE if column.column in WRAPPED_COLUMNS else None
    kind = COLUMN_TYPES.get(column.column)
    if kind == "TIMESTAMPTZ":
        return TIME_STYLE
    if kind == "DATE":
        return DATE_STYLE
    if column.column in PERCENT_COLUMNS:
        return PERCENT_STYLE
    return WRAP_STYLE if column.column in WRAPPED_COLUMNS else None


def _shown(column: SheetColumn, values: pd.Series) -> list[object]:
    """A sheet column's cells from the table's column: the labels of its
    codes, Paris wall-clock times for UTC timestamps (Excel has no time
    zones), dates for ISO dates, or the values themselves."""
    if column.labelled and column.code_list is not None:
        labels = code_lists()[column.code_list].labels
        return [_labels_of(value, labels) for value in values]
    kind = COLUMN_TYPES.get(column.column)
    if kind == "TIMESTAMPTZ":
        times = pd.to_datetime(values, utc=True).dt.tz_convert(PARIS).dt.tz_localize(None)
        return [None if pd.isna(time) else time.to_pydatetime() for time in times]
    if kind == "DATE":
        days = pd.to_datetime(values, format="%Y-%m-%d")
        return [None if pd.isna(day) else day.date() for day in days]
    return list(values)


def _labels_of(value: object, labels: dict[str, str]) -> str | None:
    """The label of a code, or the labels of a list of codes joined like the codes."""
    codes = value if isinstance(value, (list, tuple)) else [value]
    return LIST_SEPARATOR.join(filter(None, (label(labels, code) for code in codes))) or None


def _table_sheet(workbook: Workbook, table: str, frame: pd.DataFrame) -> WriteOnlyWorksheet:
    """A contract table under its French sheet name and headers."""
    columns = sheet_columns(table)
    frame = frame.reindex(columns=COLUMNS[table])
    cells = [_shown(column, frame[column.column]) for column in columns]
    return _write_sheet(workbook, SHEET_NAMES[table], [(column.header, _style(column)) for column in columns],
                        zip(*cells))


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
        ["Chiffres clés", "Fichiers rejetés", int(statuses.get("rejected", 0)),
         f"voir la feuille « {SHEET_NAMES['quarantine']} »"],
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


def codes_rows(tables: list[str]) -> list[list[object]]:
    """The « Codes et libellés » sheet: each sheet's headers with the CSV
    column they show and its description (from the schemas, as in the data
    dictionary), then every code list with its labels."""
    rows: list[list[object]] = []
    for table in tables:
        for column in sheet_columns(table):
            if column.labelled and column.code_list is not None:
                title = code_lists()[column.code_list].title
                rows.append([COLUMN_ROW, SHEET_NAMES[table], None, column.header,
                             f"libellés des codes de la colonne précédente (liste « {title} »)"])
            else:
                rows.append([COLUMN_ROW, SHEET_NAMES[table], column.column, column.header,
                             SCHEMAS[table].columns[column.column].description or None])
    for codes in code_lists().values():
        rows += [[CODE_ROW, codes.title, code, text, codes.descriptions.get(code)]
                 for code, text in codes.labels.items()]
    return rows


# --------------------------------------------------------------------------
# The review sheet and its drop-down lists
# --------------------------------------------------------------------------


def choice(code: str, label: str) -> str:
    """A drop-down entry, which `pipeline.tables.corrections.parse_code` reads back as its code."""
    return f"{code}{CHOICE_SEPARATOR}{label}"


def _choice_lists() -> dict[str, list[str]]:
    """The drop-down lists of the review sheet's correction columns, by column."""
    categories = [choice(code, label) for code, label in category_labels().items()]
    return {
        "category_corrected": categories,
        "categories_corrected": categories,
        "theme_corrected": [choice(code, label) for code, label in THEME_LABELS.items()],
        "role_corrected": [choice(code, label) for code, label in ROLE_LABELS.items()],
        EXCLUDE: ["oui"],
    }


_PROMPTS = {
    "category_corrected": "La catégorie principale correcte.",
    "categories_corrected": "Toutes les catégories correctes, la principale d'abord : choisissez-en une ou "
                            "tapez plusieurs codes séparés par « | ».",
    "theme_corrected": "Le thème correct.",
    "role_corrected": "Le rôle correct.",
    EXCLUDE: "« oui » retire l'énoncé de items.csv et de tous les agrégats.",
}


def _review_sheet(workbook: Workbook, queue: pd.DataFrame) -> None:
    """The « À vérifier » sheet (the review queue), whose drop-down lists are
    on the hidden sheet « Listes » (`_lists_sheet`): an analyst fills in the
    correction columns by picking « code — libellé » entries (or typing a
    code) and drops the workbook, or this sheet saved alone, into the
    corrections folder, which reads its French headers back
    (`pipeline.tables.corrections.read_records`). Entries outside a list only
    raise a warning: several categories, or a code typed by hand, are valid
    too."""
    sheet = _table_sheet(workbook, REVIEW_TABLE, queue)
    letters = {column.column: get_column_letter(index)
               for index, column in enumerate(sheet_columns(REVIEW_TABLE), start=1) if not column.labelled}
    last_row = max(len(queue), 1) + 1
    for index, (column, values) in enumerate(_choice_lists().items(), start=1):
        letter, target = get_column_letter(index), letters[column]
        validation = DataValidation(
            type="list", formula1=f"{_quoted(LISTS_SHEET)}!${letter}$2:${letter}${len(values) + 1}", allow_blank=True,
            showInputMessage=True, promptTitle="Correction", prompt=_PROMPTS[column],
            showErrorMessage=True, errorStyle="warning", errorTitle="Valeur hors liste",
            error="Cette valeur n'est pas dans la liste : elle sera refusée si ce n'est pas un code du contrat.",
        )
        validation.add(f"{target}2:{target}{last_row}")
        sheet.data_validations.append(validation)  # type: ignore[attr-defined]  # see _write_sheet


def _quoted(sheet_name: str) -> str:
    """A sheet name as a formula writes it."""
    return sheet_name if sheet_name.isalnum() else "'" + sheet_name.replace("'", "''") + "'"


def _lists_sheet(workbook: Workbook) -> None:
    """The drop-down lists, one column each under its review-sheet header, in the order of `_choice_lists`; hidden."""
    lists = _choice_lists()
    longest = max(len(values) for values in lists.values())
    sheet = _write_sheet(workbook, LISTS_SHEET, [(column_label(REVIEW_TABLE, column), None) for column in lists],
                         ([values[i] if i < len(values) else None for values in lists.values()] for i in range(longest)))
    sheet.sheet_state = "hidden"  # type: ignore[attr-defined]  # see _write_sheet


# --------------------------------------------------------------------------
# The workbook
# --------------------------------------------------------------------------


def build_workbook(tables: dict[str, pd.DataFrame], recurring: pd.DataFrame) -> Workbook:
    """The workbook in memory: « À vérifier » first (so that the workbook
    itself is a valid corrections file, whose first sheet is read), Synthèse,
    the contract's tables, the recurring statements, « Codes et libellés »,
    and the hidden lists."""
    workbook = Workbook(write_only=True)
    for style in _named_styles():
        workbook.add_named_style(style)
    _review_sheet(workbook, tables.get(REVIEW_TABLE, pd.DataFrame(columns=COLUMNS[REVIEW_TABLE])))
    _write_sheet(workbook, SUMMARY_SHEET, [("Rubrique", None), ("Indicateur", None), ("Valeur", None),
                                           ("Précision", WRAP_STYLE)], summary_rows(tables, recurring))
    shown = [REVIEW_TABLE]
    for name, columns in COLUMNS.items():
        if name in (RECURRING_TABLE, REVIEW_TABLE):
            continue  # written last, from its own argument; written first, as « À vérifier »
        _table_sheet(workbook, name, tables.get(name, pd.DataFrame(columns=columns)))
        shown.append(name)
    _table_sheet(workbook, RECURRING_TABLE, recurring)
    _write_sheet(workbook, CODES_SHEET, [(title, WRAP_STYLE if title == "Description" else None)
                                         for title in CODES_HEADER], codes_rows([*shown, RECURRING_TABLE]))
    _lists_sheet(workbook)
    return workbook


def workbook_bytes(tables: dict[str, pd.DataFrame], recurring: pd.DataFrame | None) -> bytes:
    """The .xlsx file: identical bytes for identical tables."""
    if recurring is None:
        recurring = pd.DataFrame(columns=RECURRING_COLUMNS)
    workbook = build_workbook(tables, recurring)
    properties = workbook.properties
    properties.created = properties.modified = _data_time(tables)
    properties.title, properties.subject = WORKBOOK_PROPERTIES["titre"], WORKBOOK_PROPERTIES["sujet"]
    properties.creator = properties.lastModifiedBy = WORKBOOK_PROPERTIES["auteur"]
    properties.keywords, properties.description = WORKBOOK_PROPERTIES["mots_cles"], WORKBOOK_PROPERTIES["description"]
    properties.language = "fr-FR"
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
    if documents is None:
        return NO_DATA_DATE
    times = pd.to_datetime(documents["ingested_at"], utc=True, errors="coerce").dropna()
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
