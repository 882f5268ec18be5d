"""Labelled statements: the project's own files and hand-written truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import NotRequired, TypedDict

DATA = Path(__file__).parent.parent / "data"
# The frozen blind test set: measured by `make eval`, never trained on.
BLIND_SET = DATA / "blind_test.jsonl"


class Labelled(TypedDict):
    """A labelled statement: its text and categories (the primary first)."""

    text: str
    categories: list[str]
    # Cross-validation group (a document; the statement itself when absent).
    group: NotRequired[str]
    # What the project's files also say of a statement (not read by training).
    theme: NotRequired[str]
    role: NotRequired[str]
    register: NotRequired[str]


def read_jsonl(path: Path) -> list[Labelled]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def training_files() -> list[Path]:
    """The project's labelled statements: every data/train*.jsonl (never the blind set)."""
    return sorted(DATA.glob("train*.jsonl"))


def own_records() -> list[Labelled]:
    """The project's statements, each its own group for cross-validation."""
    records = [record for path in training_files() for record in read_jsonl(path)]
    return [{**record, "group": f"own:{i}"} for i, record in enumerate(records)]


def truth_records(folder: Path) -> list[Labelled]:
    """Categorised items of hand-written truth files, grouped by document."""
    records: list[Labelled] = []
    for path in sorted(folder.rglob("*.truth.json")):
        truth = json.loads(path.read_text(encoding="utf-8"))
        for item in truth["items"]:
            if item["categories"]:
                records.append({"text": item["text"], "categories": item["categories"], "group": truth["source_file"]})
    return records
