"""pandera schemas of the contract's tables: what the checks enforce
before anything reaches outputs/, and what the data dictionary documents.

Columns and codes come from `pipeline.contract`, so the writer, the checks
and the documentation share one definition.
"""

from __future__ import annotations

import pandera.pandas as pa

from pipeline import contract

_TEXT = object  # tables keep Python values (str, None, lists) until the CSV writer


def _is_code_list(allowed: list[str]):
    return pa.Check(
        lambda s: s.map(lambda v: isinstance(v, list) and all(x in allowed for x in v)),
        element_wise=False, error=f"liste de codes parmi {allowed}",
    )


def _optional_int(minimum: int = 0):
    return pa.Check(
        lambda s: s.map(lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= minimum)),
        element_wise=False, error=f"entier ≥ {minimum} ou vide",
    )


def _optional_in(allowed: list[str]):
    return pa.Check(lambda s: s.map(lambda v: v is None or v in allowed), element_wise=False,
                    error=f"vide ou parmi {allowed}")


def _is_bool():
    return pa.Check(lambda s: s.map(lambda v: isinstance(v, bool)), element_wise=False, error="true ou false")


def _is_empty():
    return pa.Check(lambda s: s.map(lambda v: v is None), element_wise=False, error="vide (à remplir par l'analyste)")


def _unique_when_present():
    return pa.Check(lambda s: not s.dropna().duplicated().any(), element_wise=False,
                    error="unique (hors cellules vides)")


def _count(minimum: int = 0):
    """An aggregate count (pandas int64)."""
    return pa.Column(int, pa.Check.ge(minimum), coerce=True, nullable=False)


def _column(checks=None, nullable=True, unique=False, description=""):
    return pa.Column(_TEXT, checks=checks or [], nullable=nullable, unique=unique, description=description)


SCHEMAS: dict[str, pa.DataFrameSchema] = {
    "documents": pa.DataFrameSchema({
        "document_id": _column([_unique_when_present()],
                               description="16 premiers caractères hexadécimaux du SHA-256 du fichier ; vide pour une "
                                           "copie (duplicate) ou un fichier refusé sans être ouvert"),
        "source_file": _column(nullable=False, description="chemin relatif au dossier source"),
        "format": _column(nullable=False, description="pdf, docx, odt (ou extension du fichier refusé)"),
        "status": _column([pa.Check.isin(contract.STATUSES)], nullable=False, description="ok, partial, rejected"),
        "reason": _column([_optional_in(contract.DOCUMENT_REASONS)], description="raison d'un statut partial/rejected"),
        "message": _column(nullable=False, description="phrase explicative en français"),
        "departement_code": _column(description="code INSEE du département"),
        "departement": _column(), "academie": _column(), "region_academique": _column(),
        "session_date": _column(description="date ISO du premier jour de la session"),
        "session_place": _column(), "session_format": _column([_optional_in(contract.SESSION_FORMATS)]),
        "n_pages": _column([_optional_int(1)], description="pages d'un PDF, vide pour un DOCX ou un ODT"),
        "n_items": _column([_optional_int(0)], nullable=False),
        "is_current": _column(description="false quand une session plus récente du même département existe"),
        "ingested_at": _column(nullable=False, description="première lecture de ce contenu (UTC)"),
        "ocr": _column(nullable=False, description="true quand le texte a été lu sur les images des pages (OCR)"),
        "ocr_confidence": _column(description="confiance moyenne des mots lus par OCR (0–1), vide sans OCR"),
    }, strict=True, ordered=True),
    "participants": pa.DataFrameSchema({
        "document_id": _column(nullable=False), "departement_code": _column(),
        "category": _column([pa.Check.isin(contract.PARTICIPANT_CATEGORIES)], nullable=False),
        "checked": _column(),
        "count": _column([_optional_int(0)], description="vide quand le document dit « à compléter » ou rien"),
        "n_etablissements": _column([_optional_int(0)]),
    }, strict=True, ordered=True),
    "items": pa.DataFrameSchema({
        "item_id": _column(nullable=False, unique=True, description="identifiant stable de l'énoncé"),
        "document_id": _column(nullable=False), "departement_code": _column(),
        "section": _column([pa.Check.isin(contract.SECTIONS)], nullable=False),
        "theme": _column([pa.Check.isin(contract.THEME_CODES)], nullable=False, description="un des cinq thèmes, ou inconnu"),
        "theme_raw": _column(), "role": _column([pa.Check.isin(contract.ROLES)], nullable=False),
        "text": _column(nullable=False), "category": _column([_optional_in(contract.CATEGORIES)]),
        "categories": _column([_is_code_list(contract.CATEGORIES)], nullable=False),
        "category_score": _column(), "page": _column([_optional_int(1)]),
        "table_index": _column([_optional_int(0)]), "row_index": _column([_optional_int(0)]),
        "category_source": _column([pa.Check.isin(contract.CATEGORY_SOURCES)], nullable=False),
        "needs_review": _column([_is_bool()], nullable=False),
    }, strict=True, ordered=True),
    "actions": pa.DataFrameSchema({
        "document_id": _column(nullable=False), "departement_code": _column(),
        "theme": _column([pa.Check.isin(contract.THEME_CODES)], nullable=False),
        "quoi": _column(nullable=False), "comment": _column(nullable=False),
        "acteurs": _column([_is_code_list(contract.ACTORS)], nullable=False), "acteurs_raw": _column(),
        "temporalite": _column([_optional_in(contract.TEMPORALITES)]), "temporalite_raw": _column(),
        "indicateurs": _column(nullable=False),
    }, strict=True, ordered=True),
    "quarantine": pa.DataFrameSchema({
        "source_file": _column(nullable=False), "document_id": _column(),
        "reason": _column([pa.Check.isin([*contract.DOCUMENT_REASONS, contract.UNKNOWN_THEME_REASON])], nullable=False),
        "message": _column(nullable=False), "detected_at": _column(nullable=False),
    }, strict=True, ordered=True),
    "theme_summary": pa.DataFrameSchema({
        "theme": _column([pa.Check.isin(contract.THEME_CODES)], nullable=False),
        "role": _column([pa.Check.isin(contract.ROLES)], nullable=False),
        "n_items": _count(1), "n_departements": _count(1),
    }, strict=True, ordered=True),
    "category_summary": pa.DataFrameSchema({
        "theme": _column([pa.Check.isin(contract.THEME_CODES)], nullable=False),
        "role": _column([pa.Check.isin(contract.CLASSIFIED_ROLES)], nullable=False),
        "category": _column([pa.Check.isin(contract.CATEGORIES)], nullable=False),
        "n_items": _count(1), "n_departements": _count(1),
        "share_departements": pa.Column(float, pa.Check.in_range(0, 1), coerce=True, nullable=False),
        "examples": _column(nullable=False),
    }, strict=True, ordered=True),
    "department_theme_matrix": pa.DataFrameSchema({
        "departement_code": _column(), "departement": _column(), "academie": _column(),
        "theme": _column([pa.Check.isin(list(contract.THEME_CODES[:5]))], nullable=False),
        **{f"n_{role}": _count(0)
           for role in ("irritant", "point_fort", "besoin", "levier", "action")},
    }, strict=True, ordered=True),
    "actors_summary": pa.DataFrameSchema({
        "actor": _column([pa.Check.isin(contract.ACTORS)], nullable=False),
        "n_actions": _count(1), "n_departements": _count(1),
        "themes": _column(nullable=False),
    }, strict=True, ordered=True),
    "recurring_statements": pa.DataFrameSchema({
        "theme": _column([pa.Check.isin(list(contract.THEME_CODES[:5]))], nullable=False),
        "role": _column([pa.Check.isin(contract.CLASSIFIED_ROLES)], nullable=False),
        "group_id": _column(nullable=False, unique=True), "representative": _column(nullable=False),
        "n_departements": _count(2), "departements": _column(nullable=False), "item_ids": _column(nullable=False),
    }, strict=True, ordered=True),
    "review_queue": pa.DataFrameSchema({
        "rank": _column([_optional_int(1)], nullable=False, unique=True),
        "item_id": _column(nullable=False, unique=True), "document_id": _column(nullable=False),
        "departement_code": _column(), "source_file": _column(nullable=False), "page": _column([_optional_int(1)]),
        "section": _column([pa.Check.isin(contract.SECTIONS)], nullable=False),
        "theme": _column([pa.Check.isin(contract.THEME_CODES)], nullable=False),
        "role": _column([pa.Check.isin(contract.CLASSIFIED_ROLES)], nullable=False),
        "text": _column(nullable=False), "category": _column([pa.Check.isin(contract.CATEGORIES)], nullable=False),
        "categories": _column([_is_code_list(contract.CATEGORIES)], nullable=False),
        "category_score": _column(), "why": _column(nullable=False),
        **{column: _column([_is_empty()]) for column in [*contract.CORRECTION_FIELDS, "exclude", "comment"]},
    }, strict=True, ordered=True),
    "corrections_applied": pa.DataFrameSchema({
        "correction_file": _column(nullable=False), "row": _column([_optional_int(1)], nullable=False),
        "item_id": _column(), "field": _column([pa.Check.isin(["category", "categories", "theme", "role", "exclude"])],
                                              nullable=False),
        "old_value": _column(), "new_value": _column(),
        "status": _column([pa.Check.isin(contract.CORRECTION_STATUSES)], nullable=False),
        "message": _column(nullable=False),
    }, strict=True, ordered=True),
    "participants_summary": pa.DataFrameSchema({
        "category": _column([pa.Check.isin(contract.PARTICIPANT_CATEGORIES)], nullable=False),
        **{column: _count(0)
           for column in ("n_departements_checked", "total_count", "n_departements_count_missing")},
    }, strict=True, ordered=True),
}

# What each column means, for the data dictionary (docs/dictionnaire-des-donnees.md).
_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "documents": {
        "departement": "nom du département", "academie": "académie (2020)", "region_academique": "région académique (2020)",
        "session_place": "lieu de la session, tel qu'écrit après la date", "session_format": "format coché dans la trame",
        "n_items": "nombre d'énoncés extraits",
    },
    "participants": {
        "document_id": "document d'origine", "departement_code": "code INSEE du département",
        "category": "catégorie de participants (ligne de la trame)", "checked": "case cochée",
        "n_etablissements": "nombre d'établissements représentés",
    },
    "items": {
        "document_id": "document d'origine", "departement_code": "code INSEE du département",
        "section": "partie de la trame", "theme_raw": "libellé du thème tel qu'écrit", "role": "rôle de la colonne",
        "text": "énoncé, texte exact", "category": "catégorie principale (taxonomie)",
        "categories": "toutes les catégories, la principale d'abord", "category_score": "confiance de la catégorie principale (0–1)",
        "page": "page du PDF (vide pour un DOCX)", "table_index": "rang du tableau dans le document",
        "row_index": "rang de la ligne dans le tableau",
        "category_source": "model, ou analyst quand une correction a fixé la catégorie, le thème ou le rôle",
        "needs_review": "true quand l'énoncé est dans la file à vérifier (review_queue.csv)",
    },
    "review_queue": {
        "rank": "ordre de vérification (1 = d'abord)", "item_id": "énoncé (items.csv)",
        "document_id": "document d'origine", "departement_code": "code INSEE du département",
        "source_file": "fichier d'origine (chemin relatif au dossier source)", "page": "page du PDF (vide pour un DOCX)",
        "section": "partie de la trame", "theme": "thème", "role": "rôle", "text": "énoncé, texte exact",
        "category": "catégorie principale proposée", "categories": "catégories proposées, la principale d'abord",
        "category_score": "confiance de la catégorie principale (0–1)",
        "why": "pourquoi le vérifier : score faible, deuxième catégorie proche, modèle et indices en désaccord, constat récurrent",
        "category_corrected": "à remplir : catégorie principale correcte (code)",
        "categories_corrected": "à remplir : toutes les catégories correctes, séparées par « | »",
        "theme_corrected": "à remplir : thème correct (code)", "role_corrected": "à remplir : rôle correct (code)",
        "exclude": "à remplir : true, oui ou x pour retirer l'énoncé des tables et agrégats",
        "comment": "à remplir : remarque libre (ignorée par le pipeline)",
    },
    "corrections_applied": {
        "correction_file": "fichier de corrections (chemin relatif au dossier des corrections)",
        "row": "ligne de données du fichier (1 = première après l'en-tête)", "item_id": "énoncé visé, tel qu'écrit",
        "field": "champ corrigé : category, categories, theme, role ou exclude",
        "old_value": "valeur avant correction", "new_value": "valeur demandée",
        "status": "applied, item_not_found, unknown_code ou superseded", "message": "explication en français",
    },
    "actions": {
        "document_id": "document d'origine", "departement_code": "code INSEE du département",
        "theme": "thème de la ligne", "quoi": "axes d'amélioration (Quoi)", "comment": "actions à mener (Comment)",
        "acteurs": "codes des acteurs mobilisés", "acteurs_raw": "acteurs tels qu'écrits",
        "temporalite": "court, moyen ou long terme", "temporalite_raw": "temporalité telle qu'écrite",
        "indicateurs": "indicateurs et facteurs de réussite",
    },
    "quarantine": {
        "source_file": "fichier concerné", "document_id": "identifiant du fichier",
        "reason": "raison (celles du contrat, ou unknown_theme pour un énoncé)", "message": "explication en français",
        "detected_at": "première lecture de ce contenu (UTC)",
    },
    "theme_summary": {"theme": "thème", "role": "rôle", "n_items": "énoncés", "n_departements": "départements"},
    "category_summary": {
        "theme": "thème", "role": "rôle", "category": "catégorie", "n_items": "énoncés",
        "n_departements": "départements", "share_departements": "part des départements en vigueur (0–1)",
        "examples": "jusqu'à trois énoncés",
    },
    "department_theme_matrix": {
        "departement_code": "code INSEE", "departement": "département", "academie": "académie", "theme": "thème",
        "n_irritant": "irritants", "n_point_fort": "points forts", "n_besoin": "besoins", "n_levier": "leviers",
        "n_action": "actions",
    },
    "actors_summary": {
        "actor": "code d'acteur", "n_actions": "lignes de plan d'action qui le mobilisent",
        "n_departements": "départements", "themes": "thèmes concernés",
    },
    "recurring_statements": {
        "theme": "thème", "role": "rôle", "group_id": "identifiant stable du groupe",
        "representative": "énoncé représentatif (texte exact d'un des énoncés du groupe)",
        "n_departements": "départements ayant exprimé ce constat", "departements": "codes des départements",
        "item_ids": "énoncés du groupe (items.csv)",
    },
    "participants_summary": {
        "category": "catégorie de participants", "n_departements_checked": "départements ayant coché la case",
        "total_count": "somme des nombres de participants déclarés",
        "n_departements_count_missing": "départements sans nombre déclaré",
    },
}
SCHEMAS = {
    name: schema.update_columns({
        column: {"description": text} for column, text in _DESCRIPTIONS.get(name, {}).items()
        if not schema.columns[column].description
    })
    for name, schema in SCHEMAS.items()
}
