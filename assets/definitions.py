"""The code location: assets, checks, jobs, sensors, schedule, resources.

Kept thin: everything that computes lives in `pipeline/`. Nothing heavy
happens at import (the spaCy model loads inside a run), so the code
location loads in a couple of seconds.
"""

import dagster as dg

from assets import aggregates, corrections, documents, export, model, synthesis, tables
from assets.automation import (
    automation_sensor,
    corrections_sensor,
    nightly_refresh,
    raw_folder_sensor,
)
from assets.checks import ALL_CHECKS
from assets.jobs import everything_job, files_job, retraining_job, tables_job
from assets.policy import apply_policy
from assets.resources import location_resources

# Owners and automation conditions: once, here (assets/policy.py).
ALL_ASSETS = dg.map_asset_specs(apply_policy, [
    *dg.load_assets_from_modules([documents, tables, corrections, aggregates, synthesis, export, model]),
    corrections.corrections,
])


defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[everything_job, files_job, tables_job, retraining_job],
    sensors=[raw_folder_sensor, corrections_sensor, automation_sensor],
    schedules=[nightly_refresh],
    resources=location_resources(),
    # One process per run: the spaCy model loads once per run, not once per step.
    executor=dg.in_process_executor,
)
