"""The output contract (v1.1): its codes and enums, in one place.

The tables' columns are defined with these codes in pipeline/tables/schemas.py.
This module stays free of pandera, because the extraction workers import
it (the parser's sections and roles are the contract's codes).
"""

from __future__ import annotations

from enum import StrEnum

from pipeline.ingest.normalize.themes import THEMES, UNKNOWN

LIST_SEPARATOR = " | "
# The columns of a corrections file (and of the review queue) that set an item's field (v1.1).
CORRECTION_FIELDS = ["category_corrected", "categories_corrected", "theme_corrected", "role_corrected"]


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


# The five themes, then the code of a theme that could not be recognised.
KNOWN_THEME_CODES = list(THEMES)
THEME_CODES = [*KNOWN_THEME_CODES, UNKNOWN]
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
