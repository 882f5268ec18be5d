"""The topic taxonomy: one data file analysts can read and change.

`pipeline/data/taxonomy.json` holds, for each of the contract's 13
categories, a French label and definition and the lexical cues (lemmas,
phrases, abbreviations) that signal it. The classifier reads it when it
loads, so a change to the file is picked up without touching code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from pipeline.contract import CATEGORIES


@dataclass(frozen=True)
class Category:
    code: str
    label: str
    definition: str
    cues: tuple[str, ...]
    abbreviations: tuple[str, ...]


class TaxonomyError(ValueError):
    pass


def default_path() -> Path:
    return Path(str(files("pipeline").joinpath("data", "taxonomy.json")))


def load_taxonomy(path: Path | None = None) -> list[Category]:
    data = json.loads((path or default_path()).read_text(encoding="utf-8"))
    categories = [
        Category(
            code=entry["code"], label=entry["label"], definition=entry["definition"],
            cues=tuple(entry.get("cues", [])), abbreviations=tuple(entry.get("abbreviations", [])),
        )
        for entry in data["categories"]
    ]
    validate(categories)
    return categories


def validate(categories: list[Category]) -> None:
    """The contract's 13 codes, each defined, with cues; no cue in two categories."""
    codes = [c.code for c in categories]
    if sorted(codes) != sorted(CATEGORIES) or len(set(codes)) != len(codes):
        raise TaxonomyError(f"taxonomy codes {codes} differ from the contract's {CATEGORIES}")
    seen: dict[str, str] = {}
    for category in categories:
        if not category.label.strip() or not category.definition.strip():
            raise TaxonomyError(f"{category.code}: label and definition are required")
        if not category.cues:
            raise TaxonomyError(f"{category.code}: at least one cue is required")
        for cue in (*category.cues, *category.abbreviations):
            key = cue.strip().lower()
            if key in seen and seen[key] != category.code:
                raise TaxonomyError(f"cue {cue!r} is in both {seen[key]} and {category.code}")
            seen[key] = category.code
