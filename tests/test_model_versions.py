"""Model versions: the shipped model is never replaced, a promotion puts a
version in service, rolling back restores the previous one."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from pipeline.classify.paths import default_model_dir
from pipeline.classify.retrain import corrected_records
from pipeline.classify.versions import SHIPPED, ModelStore


def test_the_shipped_model_serves_until_a_version_is_promoted(tmp_path):
    store = ModelStore(tmp_path / "models")
    assert store.active().name == SHIPPED and store.active().path == default_model_dir()
    candidate = store.new_version(datetime(2026, 12, 7, 4, 0, tzinfo=UTC))
    assert store.active().name == SHIPPED  # trained, not yet promoted
    store.promote(candidate)
    assert store.active() == candidate
    assert [p["version"] for p in store.history()] == [candidate.name]


def test_rolling_back_restores_the_previous_version(tmp_path):
    store = ModelStore(tmp_path / "models")
    first = store.new_version(datetime(2026, 12, 7, 4, 0, tzinfo=UTC))
    second = store.new_version(datetime(2026, 12, 7, 5, 0, tzinfo=UTC))
    store.promote(first)
    store.promote(second)
    assert store.roll_back() == first
    assert store.roll_back().name == SHIPPED
    assert store.roll_back().name == SHIPPED  # nothing left to withdraw


def test_a_promoted_version_whose_folder_was_deleted_is_skipped(tmp_path):
    store = ModelStore(tmp_path / "models")
    first = store.new_version(datetime(2026, 12, 7, 4, 0, tzinfo=UTC))
    second = store.new_version(datetime(2026, 12, 7, 5, 0, tzinfo=UTC))
    store.promote(first)
    store.promote(second)
    second.path.rmdir()
    assert store.active() == first


def test_only_analysts_categories_are_learnt_from_the_items_table():
    items = pd.DataFrame([
        {"text": "Nommer un référent RGPD", "category": "donnees_souverainete",
         "categories": ["donnees_souverainete", "formation"], "category_source": "analyst"},
        {"text": "Manque de tablettes", "category": "equipement", "categories": ["equipement"],
         "category_source": "model"},
        {"text": "Former les parents", "category": "familles", "categories": "formation | familles",
         "category_source": "analyst"},
    ])
    assert corrected_records(items) == [
        {"text": "Nommer un référent RGPD", "categories": ["donnees_souverainete", "formation"]},
        {"text": "Former les parents", "categories": ["familles", "formation"]},
    ]
