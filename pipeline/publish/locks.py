"""An exclusive lock that says who holds it, and waits for it with a bound.

flock(2) on a lock file: the kernel drops the lock when its process dies,
SIGKILL included, so a killed run can never leave the lock held. The
holder writes who it is into the file once it has the lock, so a process
that finds it taken can say which run holds it and since when instead of
waiting silently. Waiting sleeps between attempts (it never spins) and
gives up after a bound.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: a Dagster run (when there is one yet) in a process, since a time (UTC, ISO 8601)."""

    pid: int
    since: str
    run_id: str | None = None

    @classmethod
    def this_process(cls, run_id: str | None = None) -> Holder:
        return cls(pid=os.getpid(), since=datetime.now(UTC).isoformat(timespec="seconds"), run_id=run_id)

    def describe(self) -> str:
        """In French, for the person waiting: « l'exécution 1a2b3c4d (processus 123), depuis 14:02:10 »."""
        local = datetime.fromisoformat(self.since).astimezone().strftime("%d/%m/%Y %H:%M:%S")
        if self.run_id:
            who = f"l'exécution {self.run_id[:8]}" + (f" (processus {self.pid})" if self.pid else "")
        else:
            who = f"le processus {self.pid}"
        return f"{who}, depuis le {local}"


class LockBusy(Exception):
    """The lock stayed taken for the whole wait."""

    def __init__(self, holder: Holder | None, waited: float):
        super().__init__(f"lock held by {holder} after {waited:.0f} s")
        self.holder = holder
        self.waited = waited


def read_holder(lock_path: Path) -> Holder | None:
    """Who last took the lock (None when unknown): only meaningful while it is taken."""
    try:
        return Holder(**json.loads(lock_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None


@contextmanager
def exclusive(lock_path: Path, holder: Holder, wait_seconds: float,
              on_wait: Callable[[Holder | None], None]) -> Iterator[None]:
    """Hold the lock for the block. When it is taken, call `on_wait` once
    with its holder, then retry every POLL_SECONDS for up to `wait_seconds`,
    and raise LockBusy if it is still taken. A signal handler that raises
    (SIGTERM, Ctrl-C) interrupts the wait, which is only ever a sleep."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + wait_seconds
        warned = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not warned:
                    on_wait(read_holder(lock_path))
                    warned = True
                if time.monotonic() >= deadline:
                    raise LockBusy(read_holder(lock_path), wait_seconds) from None
                time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(asdict(holder)).encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
