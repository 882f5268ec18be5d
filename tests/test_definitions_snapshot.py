"""The code location's shape, pinned: asset keys, their dependencies,
groups, owners and automation, checks, jobs, schedules and sensors, in
tests/snapshots/definitions.json.

A refactoring must not rename or rewire anything by accident: any change
here shows as a diff of that file, to be made on purpose. To accept a
deliberate change, regenerate it and commit the diff:

    EGN_UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/test_definitions_snapshot.py
"""

import hashlib
import json
import os
from pathlib import Path

import dagster as dg

from assets.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
UPDATE = "EGN_UPDATE_SNAPSHOT"


def _condition(condition: dg.AutomationCondition | None) -> str | None:
    """Its label, and a digest of its whole serialised tree: two conditions
    with the same label (`eager` and `eager` ignoring an asset) differ."""
    if condition is None:
        return None
    digest = hashlib.sha256(dg.serialize_value(condition).encode()).hexdigest()[:12]
    return f"{condition.get_label() or condition.name} ({digest})"


def definitions_snapshot(definitions: dg.Definitions) -> dict:
    repository = definitions.get_repository_def()
    graph = repository.asset_graph
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "group": node.group_name,
            "owners": list(node.owners),
            "automation": _condition(node.automation_condition),
            "partitioned": node.partitions_def is not None,
        }
    checks = {}
    for check_key in sorted(graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        spec = graph.get_check_spec(check_key)
        checks[f"{check_key.asset_key.to_user_string()}:{check_key.name}"] = {"blocking": spec.blocking}
    jobs = {}
    for job in sorted(repository.get_all_jobs(), key=lambda job: job.name):
        if job.name.startswith("__"):  # Dagster's implicit job of all assets
            continue
        selection = job.asset_layer.executable_asset_keys if job.asset_layer else set()
        jobs[job.name] = sorted(key.to_user_string() for key in selection)
    schedules = {schedule.name: {"cron": schedule.cron_schedule, "timezone": schedule.execution_timezone,
                                 "job": schedule.job_name}
                 for schedule in sorted(repository.schedule_defs, key=lambda s: s.name)}
    sensors = {}
    for sensor in sorted(repository.sensor_defs, key=lambda s: s.name):
        if sensor.has_jobs:
            targets = sorted(target.job_name for target in sensor.targets)
        else:  # declarative automation: the assets it may start
            targets = sorted(key.to_user_string() for key in sensor.asset_selection.resolve(graph))
        sensors[sensor.name] = {"targets": targets, "type": sensor.sensor_type.value}
    return {"assets": assets, "checks": checks, "jobs": jobs, "schedules": schedules, "sensors": sensors}


def test_the_definitions_match_their_committed_snapshot():
    current = json.dumps(definitions_snapshot(defs), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    if os.environ.get(UPDATE):
        SNAPSHOT.write_text(current, encoding="utf-8")
    expected = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.exists() else ""
    assert current == expected, (
        f"The definitions differ from {SNAPSHOT.relative_to(Path.cwd()) if SNAPSHOT.is_relative_to(Path.cwd()) else SNAPSHOT} "
        f"(an asset, check, job, schedule or sensor renamed or rewired). If the change is deliberate, "
        f"regenerate it with `{UPDATE}=1 .venv/bin/pytest tests/test_definitions_snapshot.py` and commit the diff."
    )
