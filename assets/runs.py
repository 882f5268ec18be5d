"""Runs whose process is gone, and who holds the outputs pool.

A run killed with SIGKILL (or by the out-of-memory killer, or a machine
that lost power) cannot report its own end: Dagster keeps it "STARTED"
and keeps its concurrency slots, and every later run waiting for the
`egn_outputs` pool would wait forever. So each run records where its
process lives — host, pid, and the process's start time, which tells a
reused pid apart — as run tags: `egn run` when it creates its run, and
the publishing step of any run (UI, schedule, sensor) before it writes.
`fail_dead_runs` marks a run whose process is gone as failed and frees
its slots; `egn run` calls it before it starts and while it waits.
Under the daemon, run monitoring (deploy/dagster.*.yaml) frees the slots
of runs that ended and fails runs that never started.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipeline.publish.locks import Holder

POOL = "egn_outputs"
HOST_TAG, PID_TAG, START_TAG = "egn/hote", "egn/pid", "egn/debut-processus"
UNFINISHED = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]


def process_tags() -> dict[str, str]:
    """Where this process lives, as run tags."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid()), START_TAG: _start_ticks(os.getpid()) or ""}


def fail_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the unfinished runs of this host whose process is gone,
    free their concurrency slots and those of runs already finished.
    The ids of the runs marked failed."""
    dead = []
    for run in instance.get_runs(dg.RunsFilter(statuses=UNFINISHED)):
        if _is_gone(run):
            instance.report_run_failed(run, message=(
                "Le processus de cette exécution a disparu (arrêté de force ?) : marquée en échec "
                "et ses places de concurrence libérées par egn run."))
            dead.append(run.run_id)
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        for run_id in storage.get_concurrency_run_ids():
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
    return dead


def outputs_holders(instance: dg.DagsterInstance) -> list[Holder]:
    """The live runs holding a slot of the outputs pool."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return []
    holders = []
    for run_id in sorted(storage.get_concurrency_info(POOL).active_run_ids):
        record = instance.get_run_record_by_id(run_id)
        started = record.start_time if record and record.start_time else datetime.now(UTC).timestamp()
        pid = record.dagster_run.tags.get(PID_TAG, "0") if record else "0"
        holders.append(Holder(pid=int(pid or 0), run_id=run_id,
                              since=datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds")))
    return holders


def _is_gone(run: dg.DagsterRun) -> bool:
    """True only when the run says it lives on this host and its process is not there (or is another one)."""
    tags = run.tags
    if tags.get(HOST_TAG) != socket.gethostname() or not tags.get(PID_TAG):
        return False  # elsewhere, or not known: never fail a run we cannot see
    ticks = _start_ticks(int(tags[PID_TAG]))
    return ticks is None or (bool(tags.get(START_TAG)) and ticks != tags[START_TAG])


def _start_ticks(pid: int) -> str | None:
    """A process's start time (clock ticks since boot, /proc/PID/stat field 22); None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "(command)": field 3 onwards
    return None if fields[0] == "Z" else fields[19]  # a zombie is a dead process not yet reaped
