"""Retraining from analysts' corrections, and the test a new version must pass.

A retrained version learns from the project's statements plus every item
whose category an analyst set (`category_source` = analyst in the items
table), into its own version folder (`versions.py`). It is compared with
the version in service on the frozen blind set: it may be promoted only if
its strict accuracy there is not lower. The blind set stays a test set:
it decides promotion, it is never learnt from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import cast

import pandas as pd

from pipeline.classify.classifier import Classifier
from pipeline.classify.labelled import BLIND_SET, Labelled, own_records, read_jsonl
from pipeline.classify.metrics import Scores, scores
from pipeline.classify.train import CONFIG, fit
from pipeline.classify.versions import ModelStore, ModelVersion
from pipeline.contract import LIST_SEPARATOR

ANALYST = "analyst"


def corrected_records(items: pd.DataFrame) -> list[Labelled]:
    """The statements whose category an analyst set, as labelled statements."""
    if "category_source" not in items.columns:
        return []
    corrected = items[(items["category_source"] == ANALYST) & items["category"].notna()]
    # itertuples' rows are untyped named tuples (pandas-stubs: any scalar);
    # text and category are strings here (the items table's text columns).
    return [
        {"text": cast(str, row.text), "categories": _categories(cast(str, row.category), row.categories)}
        for row in corrected.itertuples()
    ]


def _categories(primary: str, categories: object) -> list[str]:
    listed = categories if isinstance(categories, list) else str(categories or "").split(LIST_SEPARATOR)
    return [primary, *[c for c in listed if c and c != primary]]


def retrain(store: ModelStore, corrections: list[Labelled], config_path: Path = CONFIG) -> ModelVersion:
    """A new version trained on the project's statements and the corrections."""
    version = store.new_version()
    fit(own_records() + corrections, None, version.path, config_path=config_path, blind=read_jsonl(BLIND_SET))
    return version


@dataclass(frozen=True)
class Comparison:
    """Blind-set figures of the version in service and of the candidate."""

    current: Scores
    candidate: Scores

    @property
    def no_worse(self) -> bool:
        return self.candidate["strict"] >= self.current["strict"]


def compare_on_blind(current: Path, candidate: Path, blind_set: Path = BLIND_SET) -> Comparison:
    records = read_jsonl(blind_set)
    texts, truths = [r["text"] for r in records], [r["categories"] for r in records]
    return Comparison(
        current=scores(truths, Classifier(model_dir=current).classify(texts)),
        candidate=scores(truths, Classifier(model_dir=candidate).classify(texts)),
    )
