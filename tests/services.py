"""Real local servers for the production tests: PostgreSQL, Redis, a Celery worker.

Started from Debian's PostgreSQL and Redis binaries and the
`dagster-celery` command of the `production` extra, on loopback ports, in throwaway folders, and stopped at
the end. `.ci/run` installs the packages; these helpers only start them.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL server not installed: apt-get install postgresql (as .ci/run does)")
    return Path(found[-1]).parent


@contextmanager
def postgres_server():
    """A PostgreSQL cluster on a free port; yields the URL of its `postgres` database.

    initdb refuses to run as root, so as root the cluster belongs to the
    Debian `postgres` user, in a folder of its own under /tmp.
    """
    bin_dir = _postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="egn-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    run = lambda *args: subprocess.run([*as_user, *map(str, args)], check=True, capture_output=True)  # noqa: E731
    try:
        run(bin_dir / "initdb", "-D", data, "-U", "egn", "-A", "trust", "-E", "UTF8", "--no-sync")
        run(bin_dir / "pg_ctl", "-D", data, "-l", root / "server.log", "-w", "start",
            "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off")
        yield f"postgresql://egn@127.0.0.1:{port}/postgres"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                           capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def new_database(server_url: str, name: str) -> str:
    """A fresh, empty database on the server; returns its URL."""
    import psycopg2

    connection = psycopg2.connect(server_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def dagster_home(folder: Path, postgres_url: str) -> Path:
    """A DAGSTER_HOME whose instance keeps runs, events and schedules in
    PostgreSQL: deploy/dagster.production.yaml, with its EGN_PG_* settings."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(Path(__file__).parent.parent / "deploy" / "dagster.production.yaml", folder / "dagster.yaml")
    return folder


def postgres_env(postgres_url: str) -> dict[str, str]:
    """The EGN_PG_* variables that deploy/dagster.production.yaml reads."""
    url = urlsplit(postgres_url)
    return {"EGN_PG_HOST": url.hostname, "EGN_PG_PORT": str(url.port), "EGN_PG_USER": url.username,
            "EGN_PG_PASSWORD": url.password or "", "EGN_PG_DB": url.path.lstrip("/")}


@contextmanager
def redis_server():
    """A Redis server (Debian's redis-server) on a free port, without persistence."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        raise RuntimeError("Redis not installed: apt-get install redis-server (as .ci/run does)")
    port = free_port()
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, server)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def celery_worker(env: dict[str, str], concurrency: int = 2):
    """`dagster-celery worker start` with `concurrency` worker processes.

    The workers import the code location, so they get the same environment
    (resources' folders, DAGSTER_HOME, broker) as the processes that start
    runs. Yields once the worker answers a ping.
    """
    bin_dir = Path(sys.executable).parent
    env = dict(env, PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}")
    config = Path(__file__).parent.parent / "deploy" / "celery.yaml"
    worker = subprocess.Popen(
        [str(bin_dir / "dagster-celery"), "worker", "start", "-A", "dagster_celery.app", "-y", str(config),
         "--loglevel", "WARNING", "--", f"--concurrency={concurrency}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        from celery import Celery

        app = Celery(broker=env["EGN_CELERY_BROKER"], backend=env["EGN_CELERY_BACKEND"])
        deadline = time.monotonic() + 120
        while not app.control.ping(timeout=1.0):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Celery worker did not start")
        yield app
    finally:
        stop_process_group(worker, timeout=60)


def stop_process_group(process: subprocess.Popen, timeout: float) -> None:
    """SIGTERM to a process started with start_new_session, SIGKILL if it lingers."""
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


def wait_all(processes: list[subprocess.Popen], timeout: float) -> list[tuple[int, str]]:
    """Return codes and output of processes started together."""
    deadline = time.monotonic() + timeout
    outcomes = []
    for process in processes:
        output, _ = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
        outcomes.append((process.returncode, output))
    return outcomes
