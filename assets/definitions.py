"""The code location: assets, checks, jobs, sensors, schedule, resources.

Kept thin: everything that computes lives in `pipeline/`. Nothing heavy
happens at import (the spaCy model loads inside a run), so the code
location loads in a couple of seconds.
"""

import dagster as dg

from assets import aggregates, documents, export, synthesis, tables
from assets.automation import automation_sensor, nightly_refresh, raw_folder_sensor
from assets.checks import ALL_CHECKS
from assets.jobs import documents_job, publication_job, restitutions_job
from assets.resources import (
    ClassifierResource, OutputsFolder, Progress, RawFolder, ResultStore,
    default_cache_dir, default_outputs_dir, default_raw_dir,
)

ALL_ASSETS = dg.load_assets_from_modules([documents, tables, aggregates, synthesis, export])


def resources(raw_dir: str | None = None, outputs_dir: str | None = None, cache_dir: str | None = None,
              echo: bool = False) -> dict:
    return {
        "raw_folder": RawFolder(path=raw_dir or default_raw_dir()),
        "outputs_folder": OutputsFolder(path=outputs_dir or default_outputs_dir()),
        "result_store": ResultStore(path=cache_dir or default_cache_dir()),
        "progress": Progress(echo=echo),
        "classifier": ClassifierResource(),
    }


defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[documents_job, publication_job, restitutions_job],
    sensors=[raw_folder_sensor, automation_sensor],
    schedules=[nightly_refresh],
    resources=resources(),
    # One process per run: the spaCy model loads once per run, not once per step.
    executor=dg.in_process_executor,
)
