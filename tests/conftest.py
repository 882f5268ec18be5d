"""Shared fixtures: the real documents copied under tests/fixtures/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = FIXTURES / "corpus"
TRUTH = FIXTURES / "truth"


def truth_of(name: str) -> dict:
    return json.loads((TRUTH / f"{name}.truth.json").read_text(encoding="utf-8"))


@pytest.fixture
def raw_copy(tmp_path: Path):
    """Copy some corpus files into a fresh raw folder and return it."""

    def make(*names: str) -> Path:
        raw = tmp_path / "raw"
        raw.mkdir(exist_ok=True)
        for name in names:
            shutil.copy(CORPUS / name, raw / name)
        return raw

    return make
