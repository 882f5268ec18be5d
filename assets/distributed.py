"""The code location for several machines: the same definitions, steps on Celery workers.

Needs the `production` extra (`pip install -e '.[production]'`). Only the
executor differs from `assets.definitions`: each step of a run is a Celery
task taken by a worker (`dagster-celery worker start -A dagster_celery.app
-y deploy/celery.yaml`), through the broker at EGN_CELERY_BROKER. Files are
spread over the workers by running one run per file partition: here a
backfill of the per-file asset makes one run per file (instead of one run
over the range, which suits a single machine), and `dagster asset
materialize --partition` does the same by hand; then one
`mettre_a_jour_les_tables` run. The per-file cache and the outputs are shared folders
(the resources' paths, the same on every worker) and the instance's storage
is PostgreSQL, so that concurrent runs and workers record into one place.
"""

import dagster as dg
from dagster_celery import celery_executor

from assets import definitions

CELERY = celery_executor.configured(
    {"broker": {"env": "EGN_CELERY_BROKER"}, "backend": {"env": "EGN_CELERY_BACKEND"}},
    name="celery_workers",
)


def _one_run_per_file(asset: dg.AssetsDefinition) -> dg.AssetsDefinition:
    if asset.partitions_def is None:
        return asset
    return asset.with_attributes(backfill_policy=dg.BackfillPolicy.multi_run(max_partitions_per_run=1))


defs = dg.Definitions(
    assets=[_one_run_per_file(asset) for asset in definitions.defs.assets],
    asset_checks=definitions.defs.asset_checks,
    jobs=definitions.defs.jobs,
    sensors=definitions.defs.sensors,
    schedules=definitions.defs.schedules,
    resources=definitions.defs.resources,
    executor=CELERY,
)
