"""Analysts' corrections: read from their folder, validated, applied to the items table.

No classifier is perfect, and national figures must be right where they
matter: an analyst sets an item's category, categories, theme or role, or
excludes it, in a CSV or Excel file dropped into the corrections folder
(contract v1.1, « Analyst review and corrections »). A filled-in copy of
`review_queue.csv`, or of the « À vérifier » sheet of `synthese.xlsx`
(whose French headers are read as the columns they show), is such a file.

Corrections apply to the items table only: the documents are never read
or classified again for them. Every correction read gets one line per
field in `corrections_applied.csv`, with its status:

- `applied`;
- `unknown_code`: the value is no code of the contract (nor « code — libellé »
  as the workbook's drop-down lists write it, nor the label alone);
- `item_not_found`: no item has this id, and none can be re-attached;
- `superseded`: a more recently modified file (or a later row of the same
  file) corrects the same item: for one item, the latest row wins whole.

Item ids hash where a statement sits in its file, so a département's new
version of its file gives new ids. A correction whose id is gone follows
the item of the same département, section and role whose text is the same
after case, accent and whitespace folding. That key comes from the
correction row itself when it carries the queue's `departement_code`,
`section`, `role` and `text` columns, or else from the memory of the items
that corrections have targeted (`ItemMemory`, kept with the per-file cache).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd

from pipeline.contract import CLASSIFIED_ROLES, CORRECTION_FIELDS, LIST_SEPARATOR
from pipeline.labels import ROLE_LABELS, THEME_LABELS, category_labels, column_label
from pipeline.publish.atomic import write_atomic_bytes
from pipeline.text import fold

SUFFIXES = (".csv", ".xlsx")
# Office lock files ("~$corrections.xlsx") and hidden files are not corrections.
IGNORED_PREFIXES = ("~$", ".")
EXCLUDE = "exclude"
COMMENT = "comment"
# What each correction column changes in the items table.
FIELD_OF = {**{column: column.removesuffix("_corrected") for column in CORRECTION_FIELDS}, EXCLUDE: EXCLUDE}
# Corrections not applied because of what they say (not because a newer one replaced them).
REFUSED_STATUSES = ["item_not_found", "unknown_code"]
EXCLUDE_YES = {"true", "oui", "x", "vrai"}
EXCLUDE_NO = {"false", "non", "faux"}
# How the workbook's drop-down lists write a choice: "formation — Formation".
CHOICE_SEPARATOR = " — "
# An item whose category an analyst set is certain.
ANALYST_SCORE = 1.0
# The queue's columns that locate an item, for re-attachment after a re-sent file.
CONTEXT_COLUMNS = ("departement_code", "section", "role", "text")
# Each field in the messages: as a heading, and with its article.
FIELD_LABELS = {"category": ("Catégorie", "la catégorie"), "categories": ("Catégories", "les catégories"),
                "theme": ("Thème", "le thème"), "role": ("Rôle", "le rôle"), EXCLUDE: ("Exclusion", "l'exclusion")}
# An item as `DataFrame.to_dict("records")` gives it: column → cell, of any type.
ItemRecord = dict[Hashable, Any]


class LogRow(TypedDict):
    """A row of corrections_applied.csv."""

    correction_file: str
    row: int
    item_id: str
    field: str
    old_value: object
    new_value: object
    status: str
    message: str


@dataclass(frozen=True)
class ItemKey:
    """What identifies a statement across versions of its file."""

    departement_code: str
    section: str
    role: str
    text: str  # folded

    @classmethod
    def of(cls, departement_code: object, section: object, role: object, text: object) -> ItemKey:
        return cls(_text(departement_code), _text(section), _text(role), fold(_text(text)))


@dataclass
class CorrectionRow:
    """One data row of a corrections file that changes something."""

    file: str  # path relative to the corrections folder
    row: int  # 1-based data row
    modified: int  # the file's modification time (ns): the most recent file wins
    item_id: str
    values: dict[str, str]  # correction column → the cell's text, non-empty cells only
    context: ItemKey | None = None


@dataclass
class CorrectionsRead:
    rows: list[CorrectionRow] = field(default_factory=list)
    # Files that could not be read as corrections, with the reason (French).
    problems: dict[str, str] = field(default_factory=dict)


@dataclass
class Applied:
    """The items table after corrections, and the log of every correction read."""

    items: pd.DataFrame
    log: pd.DataFrame
    memory: dict[str, ItemKey]

    @property
    def n_applied(self) -> int:
        return int((self.log["status"] == "applied").sum())

    @property
    def refused(self) -> pd.DataFrame:
        return self.log[self.log["status"].isin(REFUSED_STATUSES)]


# --------------------------------------------------------------------------
# Reading the folder
# --------------------------------------------------------------------------


def correction_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        path for path in folder.rglob("*")
        if path.is_file() and path.suffix.lower() in SUFFIXES
        and not any(part.startswith(IGNORED_PREFIXES) for part in path.relative_to(folder).parts)
    )


def folder_version(folder: Path) -> str:
    """The identity of the corrections in force: each file's name, content and
    modification time (the time decides which file wins)."""
    digest = hashlib.sha256()
    for path in correction_files(folder):
        digest.update(f"{path.relative_to(folder).as_posix()}\0{path.stat().st_mtime_ns}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]


def read_corrections(folder: Path) -> CorrectionsRead:
    read = CorrectionsRead()
    for path in correction_files(folder):
        name = path.relative_to(folder).as_posix()
        try:
            records = read_records(path)
        except Exception:  # noqa: BLE001 — any unreadable file is reported, never fatal
            read.problems[name] = "Fichier illisible (ni CSV ni classeur Excel lisible) : il est ignoré."
            continue
        if records and "item_id" not in records[0]:
            read.problems[name] = (f"Pas de colonne « item_id » (« {column_label('review_queue', 'item_id')} » dans "
                                   "le classeur) : le fichier est ignoré.")
            continue
        modified = path.stat().st_mtime_ns
        for number, record in enumerate(records, start=1):
            values = {column: record[column] for column in FIELD_OF if record.get(column)}
            if not values:
                continue  # a queue row left as it was, or a comment alone
            context = None
            if all(record.get(column) for column in CONTEXT_COLUMNS):
                context = ItemKey.of(*(record[column] for column in CONTEXT_COLUMNS))
            read.rows.append(CorrectionRow(name, number, modified, record.get("item_id", ""), values, context))
    return read


def _column_of_header() -> dict[str, str]:
    """The French headers of the workbook's review sheet, as the columns they
    show: the workbook, or its sheet saved alone, is a corrections file. The
    labels beside a coded column (« Rôle », after « Rôle (code) ») are no
    column of the contract."""
    from pipeline.tables.column_labels import sheet_columns  # imported here: see apply_corrections

    return {column.header: column.column for column in sheet_columns("review_queue") if not column.labelled}


def read_records(path: Path) -> list[dict[str, str]]:
    """The data rows of a CSV or XLSX file (first sheet) as text, by column
    name (the contract's, or the workbook's French header for it)."""
    if path.suffix.lower() == ".xlsx":
        rows = _xlsx_rows(path)
    else:
        rows = _csv_rows(path.read_bytes())
    rows = [row for row in rows if any(row)]
    if not rows:
        return []
    column_of_header = _column_of_header()
    header = [column_of_header.get(cell.strip(), cell.strip()) for cell in rows[0]]
    return [{name: cell.strip() for name, cell in zip(header, row) if name} for row in rows[1:]]


def _csv_rows(data: bytes) -> list[list[str]]:
    """UTF-8 with or without BOM; `,` as the contract writes, or `;` as Excel does."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")  # Excel's "CSV (séparateur : point-virgule)" on Windows
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _xlsx_rows(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return [[_text(value) for value in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def _text(value: object) -> str:
    """A cell as text: Excel's numbers and booleans as one would type them."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# --------------------------------------------------------------------------
# Memory of corrected items, for re-attachment
# --------------------------------------------------------------------------


class ItemMemory:
    """item_id → ItemKey of every item a correction has targeted, kept across runs.

    A correction written with a bare item_id would otherwise be lost when a
    département re-sends its file: the old item, and its text, are gone
    from the tables. Only corrected items are remembered, so the file stays
    as small as the corrections.
    """

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> dict[str, ItemKey]:
        if not self.path.is_file():
            return {}
        return {item_id: ItemKey(*key) for item_id, key in json.loads(self.path.read_text(encoding="utf-8")).items()}

    def save(self, memory: dict[str, ItemKey]) -> None:
        data = {item_id: [key.departement_code, key.section, key.role, key.text] for item_id, key in sorted(memory.items())}
        if self.load() != memory:
            write_atomic_bytes(self.path, json.dumps(data, ensure_ascii=False, indent=0).encode("utf-8"))


# --------------------------------------------------------------------------
# Validation and application
# --------------------------------------------------------------------------


def parse_code(value: str, labels: dict[str, str]) -> str | None:
    """A code from a code, a « code — libellé » choice or a label; None if unknown."""
    text = value.split(CHOICE_SEPARATOR, 1)[0].strip()
    if text in labels:
        return text
    folded = fold(text)
    for code, label in labels.items():
        if folded in (fold(code), fold(label)):
            return code
    return None


def _choices(column: str) -> dict[str, str]:
    if column in ("category_corrected", "categories_corrected"):
        return category_labels()
    if column == "theme_corrected":
        return THEME_LABELS
    return ROLE_LABELS


def _parse(column: str, value: str) -> object | None:
    """The value a correction sets, or None when it holds an unknown code.
    `categories_corrected` gives a list (cells joined with " | ")."""
    if column == EXCLUDE:
        return True if fold(value) in EXCLUDE_YES else None
    labels = _choices(column)
    if column == "categories_corrected":
        codes = [parse_code(part, labels) for part in value.split("|") if part.strip()]
        return list(dict.fromkeys(codes)) if codes and None not in codes else None
    return parse_code(value, labels)


def _shown(field_name: str, value: object) -> str:
    """A value as an analyst reads it in a message: labels, not codes."""
    if value is None or value == [] or value == "":
        return "(vide)"
    if field_name in ("category", "categories"):
        values = value if isinstance(value, list) else [value]
        return ", ".join(_label_or_text(category_labels(), v) for v in values)
    if field_name == "theme":
        return _label_or_text(THEME_LABELS, value)
    if field_name == "role":
        return _label_or_text(ROLE_LABELS, value)
    return str(value)


def _label_or_text(labels: Mapping[Any, str], value: object) -> str:
    return labels.get(value, str(value))


def _cell(value: object) -> object:
    """A value as corrections_applied.csv stores it."""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    if value is True:
        return "true"
    return value


def apply_corrections(items: pd.DataFrame, read: CorrectionsRead, memory: dict[str, ItemKey]) -> Applied:
    """Apply the corrections read to the items table (see the module's docstring).

    `items` is the table as the model wrote it (category_source `model`);
    `memory` is what earlier runs remembered of corrected items, returned
    updated with the items corrected now.
    """
    # Imported here, like the French headers (`_column_of_header`): the
    # command line imports this module for `folder_version` on a rerun that
    # may have nothing to do, which need not load the tables' pandera models.
    from pipeline.tables.schemas import COLUMNS

    by_id = {row["item_id"]: row for row in items.to_dict("records")}
    by_key: dict[ItemKey, str] = {}
    for row in by_id.values():
        by_key.setdefault(ItemKey.of(row["departement_code"], row["section"], row["role"], row["text"]), row["item_id"])
    memory = dict(memory)
    log: list[LogRow] = []

    def record(correction: CorrectionRow, column: str, status: str, message: str,
               old: object = None, new: object = None) -> None:
        log.append({"correction_file": correction.file, "row": correction.row, "item_id": correction.item_id,
                    "field": FIELD_OF[column], "old_value": _cell(old),
                    "new_value": _cell(correction.values[column] if new is None else new),
                    "status": status, "message": message})

    # Resolve each row's item; for one item the latest row wins.
    winners: dict[str, CorrectionRow] = {}
    ordered = sorted(read.rows, key=lambda c: (c.modified, c.file, c.row))
    resolved: list[tuple[CorrectionRow, str | None, bool]] = []
    for correction in ordered:
        target: str | None = correction.item_id
        moved = False
        if target not in by_id:
            key = correction.context or memory.get(correction.item_id)
            target, moved = (by_key.get(key), True) if key else (None, False)
        resolved.append((correction, target, moved))
        if target:
            winners[target] = correction

    changed: dict[str, ItemRecord] = {}
    excluded: set[str] = set()
    analyst: set[str] = set()
    for correction, target, moved in resolved:
        columns = [column for column in FIELD_OF if column in correction.values]
        if target is None:
            for column in columns:
                record(correction, column, "item_not_found",
                       f"Énoncé « {correction.item_id} » introuvable, et aucun énoncé du même département, de la "
                       "même section et du même rôle n'a le même texte : correction non appliquée.")
            continue
        base = by_id[target]
        winner = winners[target]
        if winner is not correction:
            for column in columns:
                record(correction, column, "superseded",
                       f"Remplacée par la ligne {winner.row} de « {winner.file} », qui corrige le même énoncé "
                       "et a été modifiée plus récemment.", base.get(FIELD_OF[column]))
            continue
        current = changed.setdefault(target, dict(base))
        memory[correction.item_id] = memory[target] = ItemKey.of(
            base["departement_code"], base["section"], base["role"], base["text"])
        note = f" (énoncé {target} : même texte dans la nouvelle version du fichier)" if moved else ""
        parsed = {column: _parse(column, correction.values[column]) for column in columns}
        for column in columns:
            field_name = FIELD_OF[column]
            value = parsed[column]
            if column == EXCLUDE and value is None and fold(correction.values[column]) in EXCLUDE_NO:
                continue  # "non": nothing to change
            if value is None:
                record(correction, column, "unknown_code",
                       f"Valeur « {correction.values[column]} » inconnue pour {FIELD_LABELS[field_name][1]} : "
                       "choisissez une valeur de la liste (code ou « code — libellé »).", base.get(field_name))
                continue
            if column == EXCLUDE:
                excluded.add(target)
                record(correction, column, "applied", f"Énoncé exclu de items.csv et de tous les agrégats{note}.",
                       None, True)
                continue
            old = base[field_name]
            _set(current, field_name, value, parsed)
            analyst.add(target)
            record(correction, column, "applied",
                   f"{FIELD_LABELS[field_name][0]} : « {_shown(field_name, old)} » → "
                   f"« {_shown(field_name, current[field_name])} »{note}.", old, current[field_name])

    rows = []
    for row in items.to_dict("records"):
        if row["item_id"] in excluded:
            continue
        row = changed.get(row["item_id"], row)
        row["category_source"] = "analyst" if row["item_id"] in analyst else "model"
        rows.append(row)
    corrected = pd.DataFrame(rows, columns=list(items.columns), dtype=object)
    return Applied(corrected, pd.DataFrame(log, columns=COLUMNS["corrections_applied"], dtype=object), memory)


def _set(item: ItemRecord, field_name: str, value: object, parsed: dict[str, object]) -> None:
    """Set one field of an item, keeping the contract's rules: the primary
    category comes first in `categories`, a role that is not classified has
    no category."""
    if field_name == "role":
        item["role"] = value
        if value not in CLASSIFIED_ROLES and "category_corrected" not in parsed and "categories_corrected" not in parsed:
            item["category"], item["categories"], item["category_score"] = None, [], None
    elif field_name == "theme":
        item["theme"] = value
    else:
        chosen = parsed.get("categories_corrected")  # a list of codes, or None (see `_parse`)
        listed: list[str] = chosen if isinstance(chosen, list) else []
        primary = parsed.get("category_corrected") or (listed[0] if listed else None)
        rest = listed or item["categories"] or []
        item["category"] = primary
        item["categories"] = [primary, *(code for code in rest if code != primary)]
        item["category_score"] = ANALYST_SCORE

