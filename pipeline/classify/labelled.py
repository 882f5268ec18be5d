"""Labelled statements: the project's own files and hand-written truth."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent.parent / "data"
# The frozen blind test set: measured by `make eval`, never trained on.
BLIND_SET = DATA / "blind_test.jsonl"


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def training_files() -> list[Path]:
    """The project's labelled statements: every data/train*.jsonl (never the blind set)."""
    return sorted(DATA.glob("train*.jsonl"))


def own_records() -> list[dict]:
    """The project's statements, each its own group for cross-validation."""
    records = [record for path in training_files() for record in read_jsonl(path)]
    return [dict(record, group=f"own:{i}") for i, record in enumerate(records)]


def truth_records(folder: Path) -> list[dict]:
    """Categorised items of hand-written truth files, grouped by document."""
    records = []
    for path in sorted(folder.rglob("*.truth.json")):
        truth = json.loads(path.read_text(encoding="utf-8"))
        for item in truth["items"]:
            if item["categories"]:
                records.append({"text": item["text"], "categories": item["categories"], "group": truth["source_file"]})
    return records
