"""The code location: assets, resources and the job analysts run.

Kept thin: everything that computes lives in `pipeline/`.
"""

from __future__ import annotations

import dagster as dg

from assets import aggregates, classification, export, extraction, tables
from assets.resources import (
    ClassifierResource, OutputsFolder, Progress, RawFolder, default_outputs_dir, default_raw_dir,
)

ALL_ASSETS = dg.load_assets_from_modules([extraction, classification, tables, aggregates, export])

restitutions_job = dg.define_asset_job(
    name="restitutions_job",
    selection=dg.AssetSelection.all(),
    description="Lit toutes les restitutions du dossier source et publie les fichiers CSV du contrat.",
)


def resources(raw_dir: str | None = None, outputs_dir: str | None = None, echo: bool = False) -> dict:
    return {
        "raw_folder": RawFolder(path=raw_dir or default_raw_dir()),
        "outputs_folder": OutputsFolder(path=outputs_dir or default_outputs_dir()),
        "progress": Progress(echo=echo),
        "classifier": ClassifierResource(),
    }


defs = dg.Definitions(assets=ALL_ASSETS, jobs=[restitutions_job], resources=resources())
