"""Beyond one machine: instance storage on PostgreSQL, steps on Celery workers.

Behind the `production` marker (`pytest -m production`, run by .ci/run):
the tests start real PostgreSQL and Redis servers and a Celery worker.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pandas as pd
import psycopg2
import pytest
from conftest import CORPUS
from services import (
    celery_worker,
    dagster_home,
    new_database,
    postgres_env,
    postgres_server,
    redis_server,
    wait_all,
)

pytestmark = [pytest.mark.production, pytest.mark.slow]

BIN = Path(sys.executable).parent
SAMPLES = ["sarthe-72.docx", "Trame de restitution EGN 83.pdf", "Trame de restitution EGN 45.docx",
           "restitution_EGN_05_protege.pdf"]


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres, request):
    """Each test records into a database of its own."""
    return new_database(postgres, request.node.name[:40].lower())


@pytest.fixture
def workspace(tmp_path: Path):
    raw = tmp_path / "raw"
    raw.mkdir()
    for name in SAMPLES:
        shutil.copy(CORPUS / name, raw / name)
    return tmp_path, raw


def _env(tmp: Path, raw: Path, home: Path | None, name: str, postgres_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EGN_", "DAGSTER_"))}
    env.update(EGN_RAW_DIR=str(raw), EGN_OUTPUTS_DIR=str(tmp / name / "outputs"),
               EGN_CACHE_DIR=str(tmp / name / "cache"), EGN_WORKERS="1")
    if home is not None:
        env.update(DAGSTER_HOME=str(home), **postgres_env(postgres_url))
    return env


def _query(url: str, sql: str) -> list[tuple]:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def _csv_tables(outputs: Path) -> dict[str, pd.DataFrame]:
    """Every CSV file, without the columns that record when a run saw a file."""
    tables = {}
    for path in sorted(outputs.glob("*.csv")):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        tables[path.name] = frame.drop(columns=[c for c in frame.columns if c.endswith("_at")])
    return tables


def test_runs_and_materialisations_are_recorded_in_postgresql(postgres_url, workspace):
    tmp, raw = workspace
    env = _env(tmp, raw, dagster_home(tmp / "home", postgres_url), "pg", postgres_url)
    done = subprocess.run([BIN / "egn", "run"], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr

    runs = _query(postgres_url, "SELECT status FROM runs")
    assert runs == [("SUCCESS",)]
    materialised = _query(postgres_url, (
        "SELECT asset_key, partition FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'"))
    keys = {key for key, _ in materialised}
    assert {'["document"]', '["items"]', '["documents"]', '["publication"]'} <= keys
    assert {partition for key, partition in materialised if key == '["document"]'} == set(SAMPLES)
    checks = _query(postgres_url, (
        "SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_CHECK_EVALUATION'"))
    assert checks[0][0] > 0
    partitions = _query(postgres_url, "SELECT partition FROM dynamic_partitions WHERE partitions_def_name = 'fichiers'")
    assert {p for (p,) in partitions} == set(SAMPLES)


def test_celery_workers_process_the_files_and_give_the_same_csv_files(postgres_url, workspace):
    tmp, raw = workspace
    reference = subprocess.run([BIN / "egn", "run"], env=_env(tmp, raw, None, "local"),
                               capture_output=True, text=True, timeout=900)
    assert reference.returncode == 0, reference.stdout + reference.stderr

    env = _env(tmp, raw, dagster_home(tmp / "home-celery", postgres_url), "celery", postgres_url)
    location = ["-m", "assets.distributed"]
    with redis_server() as broker:
        env.update(EGN_CELERY_BROKER=broker, EGN_CELERY_BACKEND=broker)
        with celery_worker(env, concurrency=2):
            registered = subprocess.run(
                [BIN / "python", "-c", "import os, dagster as dg; from assets.cli import sync_partitions; "
                 "from assets.resources import RawFolder; sync_partitions(dg.DagsterInstance.get(), "
                 "list(RawFolder(path=os.environ['EGN_RAW_DIR']).files_by_key()))"],
                env=env, capture_output=True, text=True, timeout=120)
            assert registered.returncode == 0, registered.stderr
            # One run per file, all at once, as a multi-run backfill starts them.
            per_file = [subprocess.Popen([BIN / "dagster", "asset", "materialize", *location,
                                          "--select", "document", "--partition", name],
                                         env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                        for name in SAMPLES]
            launchers = {process.pid for process in per_file}
            for code, output in wait_all(per_file, timeout=900):
                assert code == 0, output[-3000:]
            publication = subprocess.run([BIN / "dagster", "job", "execute", *location, "-j", "mettre_a_jour_les_tables"],
                                         env=env, capture_output=True, text=True, timeout=900)
            assert publication.returncode == 0, publication.stdout[-3000:] + publication.stderr[-3000:]

    starts = _query(postgres_url, (
        "SELECT run_id, event FROM event_logs WHERE dagster_event_type = 'STEP_START' "
        "AND step_key = 'document'"))
    assert len({run for run, _ in starts}) == len(SAMPLES)
    pids = {_pid(event) for _, event in starts}
    # The steps ran in the worker's two processes, not in the processes that started the runs.
    assert len(pids) == 2 and not pids & launchers, (pids, launchers)

    local, distributed = _csv_tables(tmp / "local" / "outputs"), _csv_tables(tmp / "celery" / "outputs")
    assert set(local) == set(distributed) and "items.csv" in local
    for name, frame in local.items():
        pd.testing.assert_frame_equal(distributed[name], frame, obj=name)


def _pid(serialised_event: str) -> int:
    return dg.deserialize_value(serialised_event).dagster_event.pid
