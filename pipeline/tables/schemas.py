"""The contract's tables, each defined once as a pandera `DataFrameModel`.

A model holds a table's columns in the contract's order, what each column
means (in French, for analysts), the type a CSV consumer reads it as and
the rules it must keep. Everything else is derived from the models, so a
column is added, renamed or described in one place: the column order the
writers follow (`COLUMNS`), the checks that run before anything reaches
outputs/ (`SCHEMAS`), the read types (`column_types`, `COLUMN_TYPES`), the
data dictionary (pipeline/publish/dictionary.py) and, in the Dagster layer, each
table asset's description and column schema.

The codes the rules allow come from `pipeline.contract`, which stays free
of pandera: the extraction workers import it, and pandera is slow to import.
"""

from __future__ import annotations

from typing import Any

import pandera.pandas as pa
from pandera.typing import Series

from pipeline import contract

# The tables keep Python values (str, int, bool, None, lists) until the CSV
# writer formats them; only the aggregates' counts and shares are typed.
Cell = Series[object]

# The types a CSV consumer reads a column as (DuckDB's names; egn.duckdb
# uses them). A text column stays text: read as numbers, "01" would become
# 1, "2A" would fail, and a document_id made of digits only would lose its zeros.
TEXT_TYPE = "VARCHAR"
INTEGER_TYPE = "BIGINT"
DECIMAL_TYPE = "DOUBLE"
BOOLEAN_TYPE = "BOOLEAN"
DATE_TYPE = "DATE"
TIMESTAMP_TYPE = "TIMESTAMPTZ"  # ISO 8601 in UTC ("2020-12-01T09:30:00Z")
# The key of a column's read type in its pandera metadata.
READ_AS = "read_as"


# --------------------------------------------------------------------------
# Rules pandera does not have: a cell holds a Python value, or nothing
# --------------------------------------------------------------------------


def _is_code_list(allowed: list[str]) -> pa.Check:
    return pa.Check(
        lambda s: s.map(lambda v: isinstance(v, list) and all(x in allowed for x in v)),
        element_wise=False, error=f"liste de codes parmi {allowed}",
    )


def _optional_int(minimum: int) -> pa.Check:
    return pa.Check(
        lambda s: s.map(lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= minimum)),
        element_wise=False, error=f"entier ≥ {minimum} ou vide",
    )


def _optional_in(allowed: list[str]) -> pa.Check:
    return pa.Check(lambda s: s.map(lambda v: v is None or v in allowed), element_wise=False,
                    error=f"vide ou parmi {allowed}")


def _is_bool() -> pa.Check:
    return pa.Check(lambda s: s.map(lambda v: isinstance(v, bool)), element_wise=False, error="true ou false")


def _is_empty() -> pa.Check:
    return pa.Check(lambda s: s.map(lambda v: v is None), element_wise=False, error="vide (à remplir par l'analyste)")


def _unique_when_present() -> pa.Check:
    return pa.Check(lambda s: not s.dropna().duplicated().any(), element_wise=False,
                    error="unique (hors cellules vides)")


# --------------------------------------------------------------------------
# Kinds of columns. Named after what a cell holds, never after a column:
# inside a model's body a field named like a helper would hide it.
# --------------------------------------------------------------------------


def _column(read_as: str, description: str, *checks: pa.Check, nullable: bool = True, unique: bool = False,
            coerce: bool = False) -> Any:
    """A field with its description, read type and rules. `pa.Field` builds
    only pandera's own checks from its keywords; the others join the list
    of the field it returns."""
    field = pa.Field(nullable=nullable, unique=unique, coerce=coerce, description=description,
                     metadata={READ_AS: read_as})
    field.checks.extend(checks)
    return field


def string(description: str, *checks: pa.Check, nullable: bool = True, unique: bool = False) -> Any:
    """Text: identifiers, names, sentences."""
    return _column(TEXT_TYPE, description, *checks, nullable=nullable, unique=unique)


def code(description: str, allowed: list[str]) -> Any:
    """One of the contract's codes, always set."""
    return _column(TEXT_TYPE, description, pa.Check.isin(allowed), nullable=False)


def optional_code(description: str, allowed: list[str]) -> Any:
    """One of the contract's codes, or empty."""
    return _column(TEXT_TYPE, description, _optional_in(allowed))


def code_list(description: str, allowed: list[str]) -> Any:
    """A list of the contract's codes (joined by " | " in the CSV), maybe empty."""
    return _column(TEXT_TYPE, description, _is_code_list(allowed), nullable=False)


def integer(description: str, minimum: int, *, nullable: bool = True, unique: bool = False) -> Any:
    """An integer of a per-document table (a Python int), at least `minimum`, or empty where nullable."""
    return _column(INTEGER_TYPE, description, _optional_int(minimum), nullable=nullable, unique=unique)


def tally(description: str, minimum: int) -> Any:
    """A count of an aggregate (pandas int64)."""
    return _column(INTEGER_TYPE, description, pa.Check.ge(minimum), nullable=False, coerce=True)


def decimal(description: str) -> Any:
    """A decimal of a per-document table (a Python float), or empty."""
    return _column(DECIMAL_TYPE, description)


def share(description: str) -> Any:
    """A share of an aggregate (pandas float64), between 0 and 1."""
    return _column(DECIMAL_TYPE, description, pa.Check.in_range(0, 1), nullable=False, coerce=True)


def boolean(description: str, *checks: pa.Check, nullable: bool = True) -> Any:
    """A Python bool (true or false in the CSV)."""
    return _column(BOOLEAN_TYPE, description, *checks, nullable=nullable)


def day(description: str) -> Any:
    """An ISO date, or empty."""
    return _column(DATE_TYPE, description)


def moment(description: str) -> Any:
    """An ISO 8601 time in UTC, always set."""
    return _column(TIMESTAMP_TYPE, description, nullable=False)


def to_fill(description: str) -> Any:
    """A column left empty for an analyst to fill in."""
    return _column(TEXT_TYPE, description, _is_empty())


# --------------------------------------------------------------------------
# The tables, in the contract's order
# --------------------------------------------------------------------------


class ContractTable(pa.DataFrameModel):
    """A table of the contract: exactly its columns, in its order (consumers
    read the CSV files by position as well as by name).

    Each model's `Config` names its file (`name`), and says in French what
    a row is (`title`, the data dictionary's heading) and what the table
    holds (`description`, also the table asset's description).
    """

    class Config:
        strict = True
        ordered = True


class Documents(ContractTable):
    class Config:
        name = "documents"
        title = "une ligne par fichier reçu"
        description = (
            "Une ligne par fichier reçu : statut (ok, partiel, rejeté) et raison, département, académie, "
            "date, lieu et format de la session, nombre d'énoncés, restitution en vigueur ou remplacée."
        )

    document_id: Cell = string("16 premiers caractères hexadécimaux du SHA-256 du fichier ; vide pour une copie "
                               "(duplicate) ou un fichier refusé sans être ouvert", _unique_when_present())
    source_file: Cell = string("chemin relatif au dossier source", nullable=False)
    format: Cell = string("pdf, docx, odt (ou extension du fichier refusé)", nullable=False)
    status: Cell = code("ok, partial, rejected", contract.STATUSES)
    reason: Cell = optional_code("raison d'un statut partial/rejected", contract.DOCUMENT_REASONS)
    message: Cell = string("phrase explicative en français", nullable=False)
    departement_code: Cell = string("code INSEE du département")
    departement: Cell = string("nom du département")
    academie: Cell = string("académie (2020)")
    region_academique: Cell = string("région académique (2020)")
    session_date: Cell = day("date ISO du premier jour de la session")
    session_place: Cell = string("lieu de la session, tel qu'écrit après la date")
    session_format: Cell = optional_code("format coché dans la trame", contract.SESSION_FORMATS)
    n_pages: Cell = integer("pages d'un PDF, vide pour un DOCX ou un ODT", 1)
    n_items: Cell = integer("nombre d'énoncés extraits", 0, nullable=False)
    is_current: Cell = boolean("false quand une session plus récente du même département existe")
    ingested_at: Cell = moment("première lecture de ce contenu (UTC)")
    # v1.1: read from page images by OCR, and how sure Tesseract was.
    ocr: Cell = boolean("true quand le texte a été lu sur les images des pages (OCR)", nullable=False)
    ocr_confidence: Cell = decimal("confiance moyenne des mots lus par OCR (0–1), vide sans OCR")


class Participants(ContractTable):
    class Config:
        name = "participants"
        title = "les neuf catégories de participants de chaque document"
        description = ("Les neuf catégories de participants de chaque session : case cochée, nombre de participants, "
                       "établissements représentés.")

    document_id: Cell = string("document d'origine", nullable=False)
    departement_code: Cell = string("code INSEE du département")
    category: Cell = code("catégorie de participants (ligne de la trame)", contract.PARTICIPANT_CATEGORIES)
    checked: Cell = boolean("case cochée")
    count: Cell = integer("vide quand le document dit « à compléter » ou rien", 0)
    n_etablissements: Cell = integer("nombre d'établissements représentés", 0)


class Items(ContractTable):
    class Config:
        name = "items"
        title = "un énoncé par ligne"
        description = (
            "Un énoncé par ligne (irritant, point fort, besoin, levier, action, difficulté…), avec son "
            "thème normalisé, le libellé d'origine et sa provenance (page, tableau, ligne), après les "
            "corrections des analystes (category_source) ; needs_review signale les énoncés à vérifier."
        )

    item_id: Cell = string("identifiant stable de l'énoncé", nullable=False, unique=True)
    document_id: Cell = string("document d'origine", nullable=False)
    departement_code: Cell = string("code INSEE du département")
    section: Cell = code("partie de la trame", contract.SECTIONS)
    theme: Cell = code("un des cinq thèmes, ou inconnu", contract.THEME_CODES)
    theme_raw: Cell = string("libellé du thème tel qu'écrit")
    role: Cell = code("rôle de la colonne", contract.ROLES)
    text: Cell = string("énoncé, texte exact", nullable=False)
    category: Cell = optional_code("catégorie principale (taxonomie)", contract.CATEGORIES)
    categories: Cell = code_list("toutes les catégories, la principale d'abord", contract.CATEGORIES)
    category_score: Cell = decimal("confiance de la catégorie principale (0–1)")
    page: Cell = integer("page du PDF (vide pour un DOCX)", 1)
    table_index: Cell = integer("rang du tableau dans le document", 0)
    row_index: Cell = integer("rang de la ligne dans le tableau", 0)
    # v1.1: analysts' corrections and the review queue.
    category_source: Cell = code("model, ou analyst quand une correction a fixé la catégorie, le thème ou le rôle",
                                 contract.CATEGORY_SOURCES)
    needs_review: Cell = boolean("true quand l'énoncé est dans la file à vérifier (review_queue.csv)", _is_bool(),
                                 nullable=False)


class Actions(ContractTable):
    class Config:
        name = "actions"
        title = "une ligne par ligne de plan d'action"
        description = ("Une ligne par ligne de plan d'action : quoi, comment, acteurs (codes et texte), "
                       "temporalité (code et texte), indicateurs.")

    document_id: Cell = string("document d'origine", nullable=False)
    departement_code: Cell = string("code INSEE du département")
    theme: Cell = code("thème de la ligne", contract.THEME_CODES)
    quoi: Cell = string("axes d'amélioration (Quoi)", nullable=False)
    comment: Cell = string("actions à mener (Comment)", nullable=False)
    acteurs: Cell = code_list("codes des acteurs mobilisés", contract.ACTORS)
    acteurs_raw: Cell = string("acteurs tels qu'écrits")
    temporalite: Cell = optional_code("court, moyen ou long terme", contract.TEMPORALITES)
    temporalite_raw: Cell = string("temporalité telle qu'écrite")
    indicateurs: Cell = string("indicateurs et facteurs de réussite", nullable=False)


class ThemeSummary(ContractTable):
    class Config:
        name = "theme_summary"
        title = "énoncés et départements par thème et rôle"
        description = "Nombre d'énoncés et de départements par thème et par rôle."

    theme: Cell = code("thème", contract.THEME_CODES)
    role: Cell = code("rôle", contract.ROLES)
    n_items: Series[int] = tally("énoncés", 1)
    n_departements: Series[int] = tally("départements", 1)


class CategorySummary(ContractTable):
    class Config:
        name = "category_summary"
        title = "énoncés et départements par thème, rôle et catégorie"
        description = ("Par thème, rôle et catégorie : énoncés, départements concernés, part des départements, "
                       "exemples.")

    theme: Cell = code("thème", contract.THEME_CODES)
    role: Cell = code("rôle", contract.CLASSIFIED_ROLES)
    category: Cell = code("catégorie", contract.CATEGORIES)
    n_items: Series[int] = tally("énoncés", 1)
    n_departements: Series[int] = tally("départements", 1)
    share_departements: Series[float] = share("part des départements en vigueur (0–1)")
    examples: Cell = string("jusqu'à trois énoncés", nullable=False)


class DepartmentThemeMatrix(ContractTable):
    class Config:
        name = "department_theme_matrix"
        title = "département × thème"
        description = "Matrice département × thème : irritants, points forts, besoins, leviers et actions."

    departement_code: Cell = string("code INSEE")
    departement: Cell = string("département")
    academie: Cell = string("académie")
    theme: Cell = code("thème", contract.KNOWN_THEME_CODES)
    # One count per role the matrix shows: `n_<role>` (pipeline/tables/aggregate.py reads the roles from these names).
    n_irritant: Series[int] = tally("irritants", 0)
    n_point_fort: Series[int] = tally("points forts", 0)
    n_besoin: Series[int] = tally("besoins", 0)
    n_levier: Series[int] = tally("leviers", 0)
    n_action: Series[int] = tally("actions", 0)


class ActorsSummary(ContractTable):
    class Config:
        name = "actors_summary"
        title = "acteurs des plans d'action"
        description = "Acteurs mobilisés par les plans d'action : nombre d'actions, de départements, thèmes."

    actor: Cell = code("code d'acteur", contract.ACTORS)
    n_actions: Series[int] = tally("lignes de plan d'action qui le mobilisent", 1)
    n_departements: Series[int] = tally("départements", 1)
    themes: Cell = string("thèmes concernés", nullable=False)


class ParticipantsSummary(ContractTable):
    class Config:
        name = "participants_summary"
        title = "participants par catégorie"
        description = "Participants par catégorie : départements ayant coché, total déclaré, nombres manquants."

    category: Cell = code("catégorie de participants", contract.PARTICIPANT_CATEGORIES)
    n_departements_checked: Series[int] = tally("départements ayant coché la case", 0)
    total_count: Series[int] = tally("somme des nombres de participants déclarés", 0)
    n_departements_count_missing: Series[int] = tally("départements sans nombre déclaré", 0)


class Quarantine(ContractTable):
    class Config:
        name = "quarantine"
        title = "fichiers non intégrés et énoncés de thème inconnu"
        description = ("Fichiers non intégrés (ou partiellement) et énoncés dont le thème n'a pas pu être "
                       "reconnu, avec la raison.")

    source_file: Cell = string("fichier concerné", nullable=False)
    document_id: Cell = string("identifiant du fichier")
    reason: Cell = code("raison (celles du contrat, ou unknown_theme pour un énoncé)",
                        [*contract.DOCUMENT_REASONS, contract.UNKNOWN_THEME_REASON])
    message: Cell = string("explication en français", nullable=False)
    detected_at: Cell = moment("première lecture de ce contenu (UTC)")


class ReviewQueue(ContractTable):
    """A filled-in copy of this table is a valid corrections file: its
    columns to fill are the corrections file's, and start empty."""

    class Config:
        name = "review_queue"
        title = "énoncés à vérifier d'abord : les plus utiles à corriger en tête"
        description = (
            "La file à vérifier : les énoncés classés non encore corrigés, du plus utile à vérifier au moins "
            "utile (score faible, deuxième catégorie proche, modèle et indices en désaccord, constat récurrent), "
            "avec des colonnes vides pour les corrections."
        )

    rank: Cell = integer("ordre de vérification (1 = d'abord)", 1, nullable=False, unique=True)
    item_id: Cell = string("énoncé (items.csv)", nullable=False, unique=True)
    document_id: Cell = string("document d'origine", nullable=False)
    departement_code: Cell = string("code INSEE du département")
    source_file: Cell = string("fichier d'origine (chemin relatif au dossier source)", nullable=False)
    page: Cell = integer("page du PDF (vide pour un DOCX)", 1)
    section: Cell = code("partie de la trame", contract.SECTIONS)
    theme: Cell = code("thème", contract.THEME_CODES)
    role: Cell = code("rôle", contract.CLASSIFIED_ROLES)
    text: Cell = string("énoncé, texte exact", nullable=False)
    category: Cell = code("catégorie principale proposée", contract.CATEGORIES)
    categories: Cell = code_list("catégories proposées, la principale d'abord", contract.CATEGORIES)
    category_score: Cell = decimal("confiance de la catégorie principale (0–1)")
    why: Cell = string("pourquoi le vérifier : score faible, deuxième catégorie proche, modèle et indices en "
                       "désaccord, constat récurrent", nullable=False)
    # contract.CORRECTION_FIELDS, then the exclusion and a free comment.
    category_corrected: Cell = to_fill("à remplir : catégorie principale correcte (code)")
    categories_corrected: Cell = to_fill("à remplir : toutes les catégories correctes, séparées par « | »")
    theme_corrected: Cell = to_fill("à remplir : thème correct (code)")
    role_corrected: Cell = to_fill("à remplir : rôle correct (code)")
    exclude: Cell = to_fill("à remplir : true, oui ou x pour retirer l'énoncé des tables et agrégats")
    comment: Cell = to_fill("à remplir : remarque libre (ignorée par le pipeline)")


class CorrectionsApplied(ContractTable):
    class Config:
        name = "corrections_applied"
        title = "chaque correction lue dans le dossier des corrections, avec son statut"
        description = ("Chaque correction lue, champ par champ, avec son statut (appliquée, code inconnu, "
                       "énoncé introuvable, remplacée) et un message en français.")

    correction_file: Cell = string("fichier de corrections (chemin relatif au dossier des corrections)",
                                   nullable=False)
    row: Cell = integer("ligne de données du fichier (1 = première après l'en-tête)", 1, nullable=False)
    item_id: Cell = string("énoncé visé, tel qu'écrit")
    field: Cell = code("champ corrigé : category, categories, theme, role ou exclude",
                       ["category", "categories", "theme", "role", "exclude"])
    old_value: Cell = string("valeur avant correction")
    new_value: Cell = string("valeur demandée")
    status: Cell = code("applied, item_not_found, unknown_code ou superseded", contract.CORRECTION_STATUSES)
    message: Cell = string("explication en français", nullable=False)


class RecurringStatements(ContractTable):
    """Beyond contract v1 (a file added, as the contract allows): the synthesis."""

    class Config:
        name = "recurring_statements"
        title = "constats récurrents : le même énoncé, en d'autres mots, dans plusieurs départements"
        description = (
            "Constats récurrents : le même irritant, besoin ou levier exprimé en d'autres mots par plusieurs "
            "départements, regroupés par thème et rôle (texte représentatif exact, départements, énoncés)."
        )

    theme: Cell = code("thème", contract.KNOWN_THEME_CODES)
    role: Cell = code("rôle", contract.CLASSIFIED_ROLES)
    group_id: Cell = string("identifiant stable du groupe", nullable=False, unique=True)
    representative: Cell = string("énoncé représentatif (texte exact d'un des énoncés du groupe)", nullable=False)
    n_departements: Series[int] = tally("départements ayant exprimé ce constat", 2)
    departements: Cell = string("codes des départements", nullable=False)
    item_ids: Cell = string("énoncés du groupe (items.csv)", nullable=False)


# --------------------------------------------------------------------------
# Derived from the models
# --------------------------------------------------------------------------

# The contract's files in the order they are listed, written and documented.
SCHEMAS: dict[str, pa.DataFrameSchema] = {
    model.Config.name: model.to_schema()
    for model in (Documents, Participants, Items, Actions, ThemeSummary, CategorySummary, DepartmentThemeMatrix,
                  ActorsSummary, ParticipantsSummary, Quarantine, ReviewQueue, CorrectionsApplied,
                  RecurringStatements)
}
COLUMNS: dict[str, list[str]] = {name: list(schema.columns) for name, schema in SCHEMAS.items()}


def column_types(table: str) -> dict[str, str]:
    """Each column of a table with the type to read it as."""
    return {column: spec.metadata[READ_AS] for column, spec in SCHEMAS[table].columns.items()}


def _types_by_name() -> dict[str, str]:
    """The type of every column that is not text, by column name. A name
    must mean the same in every table: consumers are given one map for all
    the files (the data dictionary's pandas code)."""
    types: dict[str, str] = {}
    for table in SCHEMAS:
        for column, kind in column_types(table).items():
            if types.setdefault(column, kind) != kind:
                raise ValueError(f"{table}.{column} is read as {kind}, elsewhere as {types[column]}")
    return {column: kind for column, kind in types.items() if kind != TEXT_TYPE}


COLUMN_TYPES: dict[str, str] = _types_by_name()


def rules(column: pa.Column) -> list[str]:
    """What a column's checks require, in French: the data dictionary's
    « règles » and the constraints of the UI's column schema."""
    return [_rule(check) for check in column.checks]


def _rule(check: pa.Check) -> str:
    statistics = check.statistics or {}
    if "allowed_values" in statistics:
        return "parmi " + ", ".join(f"`{value}`" for value in statistics["allowed_values"])
    if check.name == "greater_than_or_equal_to":
        return f"entier ≥ {statistics['min_value']}"
    if check.name == "in_range":
        return f"entre {statistics['min_value']} et {statistics['max_value']}"
    return str(check.error or check.name)
