"""Classification: each irritant, point fort, besoin, levier, action and
difficulté gets its topic categories (spaCy)."""

import copy
from collections import Counter

import dagster as dg

from assets.resources import ClassifierResource
from pipeline.classify.apply import classify_results
from pipeline.model import DocumentResult


@dg.asset(
    group_name="classification",
    kinds={"spacy"},
    owners=["team:donnees-egn"],
    description=(
        "Classe chaque irritant, point fort, besoin, levier, action et difficulté dans la "
        "taxonomie des 13 catégories (modèle spaCy entraîné + indices lexicaux de la taxonomie) : "
        "catégorie principale, catégories secondaires et score de confiance."
    ),
)
def classified_restitutions(
    restitutions: list[DocumentResult], classifier: ClassifierResource
) -> dg.MaterializeResult:
    results = copy.deepcopy(restitutions)  # the extraction's value stays as it was
    n = classify_results(results, classifier.classifier)
    categories = Counter(item.category for result in results for item in result.items if item.category)
    table = "\n".join(f"| {code} | {count} |" for code, count in categories.most_common())
    return dg.MaterializeResult(
        value=results,
        metadata={
            "énoncés classés": n,
            "catégories": dg.MetadataValue.md("| catégorie | énoncés |\n|---|---|\n" + table),
        },
    )
