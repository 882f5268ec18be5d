"""The output contract (v1.1): file names, columns and codes, in one place.

The CSV writer, the schema checks and the generated data dictionary all
read from here, so they cannot drift apart.
"""

from __future__ import annotations

from enum import StrEnum

from pipeline.normalize.themes import THEMES, UNKNOWN

LIST_SEPARATOR = " | "
# The columns of a corrections file (and of the review queue) that set an item's field (v1.1).
CORRECTION_FIELDS = ["category_corrected", "categories_corrected", "theme_corrected", "role_corrected"]

COLUMNS: dict[str, list[str]] = {
    "documents": [
        "document_id", "source_file", "format", "status", "reason", "message", "departement_code",
        "departement", "academie", "region_academique", "session_date", "session_place",
        "session_format", "n_pages", "n_items", "is_current", "ingested_at",
        # v1.1: read from page images by OCR, and how sure Tesseract was.
        "ocr", "ocr_confidence",
    ],
    "participants": ["document_id", "departement_code", "category", "checked", "count", "n_etablissements"],
    "items": [
        "item_id", "document_id", "departement_code", "section", "theme", "theme_raw", "role", "text",
        "category", "categories", "category_score", "page", "table_index", "row_index",
        "category_source", "needs_review",
    ],
    "actions": [
        "document_id", "departement_code", "theme", "quoi", "comment", "acteurs", "acteurs_raw",
        "temporalite", "temporalite_raw", "indicateurs",
    ],
    "theme_summary": ["theme", "role", "n_items", "n_departements"],
    "category_summary": ["theme", "role", "category", "n_items", "n_departements", "share_departements", "examples"],
    "department_theme_matrix": [
        "departement_code", "departement", "academie", "theme",
        "n_irritant", "n_point_fort", "n_besoin", "n_levier", "n_action",
    ],
    "actors_summary": ["actor", "n_actions", "n_departements", "themes"],
    "participants_summary": ["category", "n_departements_checked", "total_count", "n_departements_count_missing"],
    "quarantine": ["source_file", "document_id", "reason", "message", "detected_at"],
    # Analyst review and corrections (v1.1).
    "review_queue": [
        "rank", "item_id", "document_id", "departement_code", "source_file", "page", "section", "theme", "role",
        "text", "category", "categories", "category_score", "why", *CORRECTION_FIELDS, "exclude", "comment",
    ],
    "corrections_applied": ["correction_file", "row", "item_id", "field", "old_value", "new_value", "status",
                            "message"],
    # Beyond contract v1 (a file added, as the contract allows): the synthesis.
    "recurring_statements": ["theme", "role", "group_id", "representative", "n_departements", "departements",
                             "item_ids"],
}


class Section(StrEnum):
    """The part of the template an item comes from (items.section).

    A StrEnum, so that the parser's members are the contract's codes
    themselves: written to a CSV, compared or hashed, each is its value.
    """

    RETEX = "retex"
    DIAGNOSTIC = "diagnostic"
    PROJECTION = "projection"
    PLAN_ACTION = "plan_action"
    FICHE = "fiche"


class Role(StrEnum):
    """What a statement is (items.role): the column or fiche part it was
    written in. A StrEnum for the same reason as `Section`."""

    RETEX = "retex"
    IRRITANT = "irritant"
    POINT_FORT = "point_fort"
    BESOIN = "besoin"
    LEVIER = "levier"
    ACTION = "action"
    ACTEUR = "acteur"
    TEMPORALITE = "temporalite"
    INDICATEUR = "indicateur"
    DIFFICULTE = "difficulte"


THEME_CODES = [*THEMES, UNKNOWN]
SECTIONS = [section.value for section in Section]
ROLES = [role.value for role in Role]
# The roles whose statements get a category: what was said, not who, when, how it
# is measured, nor a RETEX's title.
CLASSIFIED_ROLES = [role.value for role in (Role.IRRITANT, Role.POINT_FORT, Role.BESOIN, Role.LEVIER, Role.ACTION,
                                            Role.DIFFICULTE)]
STATUSES = ["ok", "partial", "rejected"]
# A byte-identical copy of a file read under another name (since v1.1).
DUPLICATE_REASON = "duplicate"
DOCUMENT_REASONS = ["encrypted", "corrupt", "empty", "no_text_layer", "not_a_restitution", "too_large",
                    "unsupported_format", "missing_sections", DUPLICATE_REASON]
# Quarantine rows for single items (not whole files) carry this reason.
UNKNOWN_THEME_REASON = "unknown_theme"
SESSION_FORMATS = ["presentiel", "distanciel", "hybride"]
TEMPORALITES = ["court", "moyen", "long"]
CATEGORIES = [
    "equipement", "connectivite", "formation", "outils_plateformes", "familles", "pedagogie",
    "gouvernance", "temps_organisation", "bien_etre", "environnement", "donnees_souverainete",
    "inclusion", "financement",
]
PARTICIPANT_CATEGORIES = [
    "premier_degre", "second_degre", "representants_academiques", "usagers", "associations",
    "elus_collectivites", "chercheurs", "operateurs", "edtech",
]
ACTORS = ["ministere", "rectorat", "dsden", "region", "departement", "intercommunalite", "commune",
          "cite_educative", "etat_deconcentre", "centres_sociaux", "associations", "canope", "inspe",
          "etablissements", "familles", "entreprises", "autre"]
# Where an item's category, theme and role come from (items.category_source).
CATEGORY_SOURCES = ["model", "analyst"]
CORRECTION_STATUSES = ["applied", "item_not_found", "unknown_code", "superseded"]

# The type a CSV consumer reads each column as (DuckDB's names), by column
# name: a name means the same in every table. Every other column is text,
# codes and identifiers first: read as numbers, "01" would become 1, "2A"
# would fail, and a document_id made of digits only would lose its zeros.
TEXT_TYPE = "VARCHAR"
_COUNTS = ["n_pages", "n_items", "count", "n_etablissements", "page", "table_index", "row_index", "n_departements",
           "n_irritant", "n_point_fort", "n_besoin", "n_levier", "n_action", "n_actions", "n_departements_checked",
           "total_count", "n_departements_count_missing", "rank", "row"]
COLUMN_TYPES: dict[str, str] = {
    **dict.fromkeys(_COUNTS, "BIGINT"),
    **dict.fromkeys(["category_score", "share_departements", "ocr_confidence"], "DOUBLE"),
    **dict.fromkeys(["is_current", "ocr", "checked", "needs_review"], "BOOLEAN"),
    "session_date": "DATE",
    # ISO 8601 in UTC ("2020-12-01T09:30:00Z").
    **dict.fromkeys(["ingested_at", "detected_at"], "TIMESTAMPTZ"),
}


def column_types(table: str) -> dict[str, str]:
    """Each column of a table with the type to read it as."""
    return {column: COLUMN_TYPES.get(column, TEXT_TYPE) for column in COLUMNS[table]}
