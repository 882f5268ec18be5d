"""Where the shipped classifier lives, importable without loading spaCy
(the code location and the model versions need the path, not the model)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def default_model_dir() -> Path:
    return Path(str(files("pipeline").joinpath("classify", "model")))
