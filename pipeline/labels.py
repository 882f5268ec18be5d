"""French labels of the contract's codes, for what analysts read and pick.

Codes stay in the CSV files; the report, the workbook, the review queue's
explanations and its drop-down lists show these labels instead. Category
labels come from the taxonomy analysts maintain (pipeline/data/taxonomy.json),
theme labels from the contract (pipeline/normalize/themes.py).
"""

from __future__ import annotations

from functools import lru_cache

from pipeline.classify.taxonomy import load_taxonomy
from pipeline.normalize.themes import THEMES

ROLE_LABELS = {
    "retex": "Retour d'expérience", "irritant": "Irritant", "point_fort": "Point fort", "besoin": "Besoin",
    "levier": "Levier", "action": "Action", "acteur": "Acteur", "temporalite": "Temporalité",
    "indicateur": "Indicateur", "difficulte": "Difficulté",
}
THEME_LABELS = THEMES


@lru_cache(maxsize=1)
def category_labels() -> dict[str, str]:
    """French labels of the 13 categories, from the taxonomy analysts maintain."""
    return {category.code: category.label for category in load_taxonomy()}
