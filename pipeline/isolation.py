"""Each file is parsed in a process of its own, so that no file can cost
more than itself.

- **Memory**: each process has an address-space limit (RLIMIT_AS), a fixed
  allowance above the program it starts with; a file that needs more
  fails with MemoryError inside it, and is refused as `too_large`. Its siblings, and the run, never feel it.
- **Crashes**: a process that dies without an answer (a signal, the
  kernel's out-of-memory killer, a segmentation fault in a C library)
  costs exactly its own file, which is refused with a message saying the
  reader stopped. The next file gets a new process: nothing to restart,
  nothing shared to break (a process pool breaks for every file in it).
- **Time**: a process still running well past the per-file deadline
  (stuck where Python's alarm cannot reach) is killed.

Processes are forked from a server process that has imported the readers
once (`forkserver`): starting one costs a fork, not an import of the
program. Never a plain fork of the caller: its threads (Dagster's, the
classifier's warm-up) could leave locks held in the child.
"""

from __future__ import annotations

import resource
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path

from pipeline.errors import SourceChanged
from pipeline.model import DocumentResult
from pipeline.process import MAX_SECONDS_PER_FILE, process_file
from pipeline.sources import identity, source_name

# What one extraction process may allocate beyond the program it is forked
# with (RLIMIT_AS is set at its current size plus this). Every national
# restitution is read with under 20 MiB of it; two processes at this
# limit, the run's own process (~550 MiB with the classifier) and the fork
# server stay under 1.5 GiB together.
MAX_WORKER_GROWTH = 256 * 1024 * 1024
# A process this long past the deadline of process_file is stuck in C code.
_DEADLINE_GRACE_SECONDS = 30

Outcome = DocumentResult | SourceChanged


@dataclass
class _Running:
    path: Path
    connection: Connection
    process: object  # multiprocessing's Process of the forkserver context
    deadline: float


def parse_in_processes(paths: list[Path], root: Path, workers: int,
                       memory_growth: int = MAX_WORKER_GROWTH) -> Iterator[tuple[Path, Outcome]]:
    """Each path's outcome, as the files finish, with at most `workers`
    processes at once; the next process starts when the caller asks for
    the next outcome."""
    context = _forkserver()
    waiting = list(reversed(paths))
    running: list[_Running] = []
    try:
        while waiting or running:
            while waiting and len(running) < workers:
                running.append(_start(context, waiting.pop(), root, memory_growth))
            timeout = max(0.0, min(job.deadline for job in running) - time.monotonic())
            ready = wait([job.connection for job in running], timeout=timeout)
            for job in list(running):
                if job.connection in ready or time.monotonic() > job.deadline:
                    running.remove(job)
                    yield job.path, _finish(job, root)
    finally:
        for job in running:  # the caller stopped early: stop what it will never read
            job.process.kill()
            job.process.join()
            job.connection.close()


def _start(context, path: Path, root: Path, memory_growth: int) -> _Running:
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_work, args=(sender, path, root, memory_growth), daemon=True,
                              name="egn-lecture")
    process.start()
    sender.close()  # the child holds the only writing end: its death reads as end of file
    return _Running(path, receiver, process, time.monotonic() + MAX_SECONDS_PER_FILE + _DEADLINE_GRACE_SECONDS)


def _work(sender: Connection, path: Path, root: Path, memory_growth: int) -> None:
    """The extraction process: its memory limit, then the per-file boundary."""
    pages = int(Path("/proc/self/statm").read_text().split()[0])  # address space now (Linux)
    limit = pages * resource.getpagesize() + memory_growth
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        outcome: Outcome = process_file(path, root)
    except SourceChanged as exc:
        outcome = exc
    sender.send(outcome)
    sender.close()


def _finish(job: _Running, root: Path) -> Outcome:
    """The process's answer, or, when it died without one, its file refused."""
    timed_out = False
    try:
        if job.connection.poll():
            return job.connection.recv()
        timed_out = job.process.is_alive()
    except (EOFError, OSError):
        pass  # died while answering
    finally:
        job.process.kill()
        job.process.join()
        job.connection.close()
    return _stopped(job.path, root, job.process.exitcode, timed_out)


def _stopped(path: Path, root: Path, exitcode: int | None, timed_out: bool) -> Outcome:
    """The file whose reader stopped. Its identity is taken again: if the
    file changed meanwhile, the stop says nothing about what is there now."""
    try:
        current = identity(path, root)
    except OSError as exc:
        return SourceChanged(f"disparu ou illisible ({exc.strerror or exc})")
    name = source_name(path.relative_to(root).as_posix())
    suffix = path.suffix.lower().lstrip(".") or "inconnu"
    if timed_out:
        message = (f"La lecture du fichier a dépassé {MAX_SECONDS_PER_FILE} s et le lecteur a été arrêté : "
                   "document trop lourd ou malformé, fichier refusé.")
        return DocumentResult(current[:16], name, suffix, "rejected", "too_large", message, identity=current)
    message = (f"Le lecteur s'est arrêté brutalement sur ce fichier ({_cause(exitcode)}) : "
               "fichier mis de côté, les autres fichiers ont été lus.")
    return DocumentResult(current[:16], name, suffix, "rejected", "corrupt", message, identity=current)


def _cause(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"signal {-exitcode}"
    return f"code de sortie {exitcode}"


def _forkserver():
    context = get_context("forkserver")
    context.set_forkserver_preload(["__main__", "pipeline.isolation"])
    return context
