"""Model versions trained from the UI, and which one is in service.

The shipped model (`pipeline/classify/model/`) is never overwritten: each
retraining writes a new folder `versions/<name>/` under the models folder,
and `promoted.json` lists the promotions in order. The pipeline classifies
with the last promoted version that still exists, else the shipped model;
rolling back is removing the last promotion (`egn modele --revenir`), and
the previous version is back at the next run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

from pipeline.classify.paths import default_model_dir
from pipeline.publish.atomic import write_atomic_bytes

SHIPPED = "livré"  # the name of the shipped model, when no version is promoted
PROMOTED_FILE = "promoted.json"


class Promotion(TypedDict):
    """One entry of promoted.json."""

    version: str
    promoted_at: str


@dataclass(frozen=True)
class ModelVersion:
    name: str
    path: Path


class ModelStore:
    """The models folder: versions, and the promotions' history."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def new_version(self, now: datetime | None = None) -> ModelVersion:
        """A fresh, empty version folder, named by its UTC creation time."""
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
        path = self.root / "versions" / stamp
        path.mkdir(parents=True)
        return ModelVersion(stamp, path)

    def history(self) -> list[Promotion]:
        path = self.root / PROMOTED_FILE
        if not path.exists():
            return []
        promotions: list[Promotion] = json.loads(path.read_text(encoding="utf-8"))["promotions"]
        return promotions

    def active(self) -> ModelVersion:
        """The last promoted version still on disk, else the shipped model."""
        for promotion in reversed(self.history()):
            path = self.root / "versions" / promotion["version"]
            if path.is_dir():
                return ModelVersion(promotion["version"], path)
        return ModelVersion(SHIPPED, default_model_dir())

    def promote(self, version: ModelVersion, now: datetime | None = None) -> None:
        when = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._write([*self.history(), {"version": version.name, "promoted_at": when}])

    def roll_back(self) -> ModelVersion:
        """Withdraw the last promotion; the version in service afterwards."""
        history = self.history()
        if history:
            self._write(history[:-1])
        return self.active()

    def _write(self, promotions: list[Promotion]) -> None:
        payload = json.dumps({"promotions": promotions}, ensure_ascii=False, indent=2) + "\n"
        write_atomic_bytes(self.root / PROMOTED_FILE, payload.encode("utf-8"))
