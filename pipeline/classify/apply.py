"""Give every classifiable statement of a batch of results its categories."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.contract import CLASSIFIED_ROLES
from pipeline.model import DocumentResult, Item

if TYPE_CHECKING:  # spaCy is heavy to import: only a run that classifies loads it
    from pipeline.classify.classifier import Classifier


def classifiable_items(results: list[DocumentResult]) -> list[Item]:
    """The statements the taxonomy applies to (irritants, besoins, actions…)."""
    return [item for result in results for item in result.items if item.role in CLASSIFIED_ROLES]


def classify_items(items: list[Item], classifier: Classifier) -> None:
    """Set category, categories and category_score in place.

    Each distinct text is classified once: restitutions repeat their
    statements from the diagnostic to the projection and the plan.
    """
    texts = list(dict.fromkeys(item.text for item in items))
    predictions = dict(zip(texts, classifier.classify(texts)))
    for item in items:
        prediction = predictions[item.text]
        item.category = prediction.category
        item.categories = list(prediction.categories)
        item.category_score = prediction.score
        item.category_margin = prediction.margin
        item.model_category = prediction.model_category
        item.cue_category = prediction.cue_category
