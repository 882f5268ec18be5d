"""French labels of the contract's codes, for what analysts read and pick.

One module, shared by the report, the workbook, the review queue and the
Dagster UI's metadata, so that a code reads the same everywhere. Codes stay
in the CSV files. The labels themselves are data (pipeline/data/libelles.json),
except two that analysts or the contract already own: category labels come
from the taxonomy (pipeline/data/taxonomy.json), theme labels from the
contract (pipeline/ingest/normalize/themes.py), actor labels from the actors'
lexicon (pipeline/data/acteurs.csv).

The same data names the contract's columns in French (the workbook's
headers, which the corrections reader also accepts, see
pipeline/tables/column_labels.py), the workbook's sheets and the code lists that
the workbook and the DuckDB file show.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any

from pipeline.classify.taxonomy import load_taxonomy
from pipeline.ingest.normalize.themes import THEMES

# Between a status and its reason: "Rejeté – PDF protégé par mot de passe".
STATUS_REASON_SEPARATOR = " – "


def _data(name: str) -> str:
    return files("pipeline").joinpath("data", name).read_text(encoding="utf-8")


# Sections of different shapes (labels, pairs, nested tables): read as typed below.
_LABELS: dict[str, Any] = json.loads(_data("libelles.json"))

STATUS_LABELS: dict[str, str] = _LABELS["statuts"]
REASON_LABELS: dict[str, str] = _LABELS["raisons"]
# Singular labels (what a cell or a drop-down shows) and plural headings.
ROLE_LABELS: dict[str, str] = {code: pair[0] for code, pair in _LABELS["roles"].items()}
ROLE_PLURALS: dict[str, str] = {code: pair[1] for code, pair in _LABELS["roles"].items()}
THEME_LABELS: dict[str, str] = THEMES
THEME_SHORT_LABELS: dict[str, str] = _LABELS["themes_courts"]
PARTICIPANT_LABELS: dict[str, str] = _LABELS["participants"]
# The empty code is "no time frame stated".
TEMPORALITE_LABELS: dict[str, str] = _LABELS["temporalites"]
SESSION_FORMAT_LABELS: dict[str, str] = _LABELS["formats_de_session"]
FILE_FORMAT_LABELS: dict[str, str] = _LABELS["formats_de_fichier"]
SECTION_LABELS: dict[str, str] = _LABELS["sections"]
EXPECTED_SECTION_LABELS: dict[str, str] = _LABELS["sections_attendues"]
CATEGORY_SOURCE_LABELS: dict[str, str] = _LABELS["sources_de_categorie"]
CORRECTION_STATUS_LABELS: dict[str, str] = _LABELS["statuts_de_correction"]
YES_NO: dict[bool, str] = {True: _LABELS["oui_non"]["true"], False: _LABELS["oui_non"]["false"]}
# Where a file's result comes from in a run (the Dagster UI's metadata).
ORIGIN_LABELS: dict[str, str] = _LABELS["provenances"]


@lru_cache(maxsize=1)
def category_labels() -> dict[str, str]:
    """French labels of the 13 categories, from the taxonomy analysts maintain."""
    return {category.code: category.label for category in load_taxonomy()}


@lru_cache(maxsize=1)
def actor_labels() -> dict[str, str]:
    """French labels of the actor codes, from the actors' lexicon (its `note` column)."""
    labels = {row["code"]: row["note"] for row in csv.DictReader(_data("acteurs.csv").splitlines())}
    labels["autre"] = _LABELS["autres_acteurs"]
    return labels


def label(labels: Mapping[Any, str], code: object) -> str:
    """A code's label, or the code itself when it has none (a value no
    list foresaw must still show, never vanish)."""
    if code is None or (isinstance(code, float) and code != code):
        return ""
    return labels.get(code, str(code))


def status_label(status: str, reason: str | None = None) -> str:
    """A file's status as an analyst reads it: "Intégré", "Partiel – Sections
    manquantes", "Rejeté – PDF protégé par mot de passe"."""
    text = label(STATUS_LABELS, status)
    return text + STATUS_REASON_SEPARATOR + label(REASON_LABELS, reason) if reason else text


# --------------------------------------------------------------------------
# Code lists and column headers, for the workbook and the DuckDB file
# --------------------------------------------------------------------------

SHEET_NAMES: dict[str, str] = _LABELS["feuilles"]
# How the workbook heads a coded column's codes: « Thème (code) ».
CODE_HEADER: str = _LABELS["colonne_code"]
WORKBOOK_PROPERTIES: dict[str, str] = _LABELS["classeur"]
# French names of the types a CSV consumer reads each column as (DuckDB's names as keys).
COLUMN_TYPE_LABELS: dict[str, str] = _LABELS["types_de_colonne"]
_COLUMN_LABELS: dict[str, dict[str, str]] = _LABELS["colonnes"]


@dataclass(frozen=True)
class CodeList:
    """A list of codes: its French title, each code's label and, where the
    project has one, a longer description (a category's definition, a
    theme's full title)."""

    title: str
    labels: dict[str, str]
    descriptions: dict[str, str] = field(default_factory=dict)


@lru_cache(maxsize=1)
def code_lists() -> dict[str, CodeList]:
    """Every list of codes the contract's columns use, with its French
    labels, by name: the workbook's « Codes et libellés » sheet and
    DuckDB's `libelles_<name>` tables show the same lists."""
    categories = load_taxonomy()
    labels: dict[str, tuple[dict[str, str], dict[str, str]]] = {
        # Short theme labels read better in a filter; the contract's titles describe them.
        "themes": (THEME_SHORT_LABELS, THEME_LABELS),
        "roles": (ROLE_LABELS, {}),
        "sections": (SECTION_LABELS, {}),
        "categories": (category_labels(), {category.code: category.definition for category in categories}),
        "participants": (PARTICIPANT_LABELS, {}),
        "acteurs": (actor_labels(), {}),
        "temporalites": (TEMPORALITE_LABELS, {}),
        "statuts": (STATUS_LABELS, {}),
        "raisons": (REASON_LABELS, {}),
        "formats_de_fichier": (FILE_FORMAT_LABELS, {}),
        "formats_de_session": (SESSION_FORMAT_LABELS, {}),
        "sources_de_categorie": (CATEGORY_SOURCE_LABELS, {}),
        "statuts_de_correction": (CORRECTION_STATUS_LABELS, {}),
    }
    titles = _LABELS["listes"]
    return {name: CodeList(titles[name], codes, descriptions) for name, (codes, descriptions) in labels.items()}


def column_label(table: str, column: str) -> str:
    """A contract column's French header: the table's own, the shared one,
    or for a count by role (« n_irritant ») the role's plural."""
    own, shared = _COLUMN_LABELS.get(table, {}), _COLUMN_LABELS["*"]
    if column in own or column in shared:
        return own.get(column) or shared[column]
    return ROLE_PLURALS[column.removeprefix("n_")]
