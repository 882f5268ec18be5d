"""Files are parsed in worker processes, so that no file can cost more
than itself.

- **Memory**: each worker has an address-space limit (RLIMIT_AS), a fixed
  allowance above the program it starts with; a file that needs more
  fails with MemoryError inside it, and is refused as `too_large`. Its
  siblings, and the run, never feel it; the worker is replaced, so that
  the next file starts on a clean heap.
- **Crashes**: a worker reads one file at a time, so when it dies without
  an answer (a signal, the kernel's out-of-memory killer, a segmentation
  fault in a C library) the file it was reading is known: that file alone
  is refused, with a message saying the reader stopped, and a new worker
  takes the next files (a process pool breaks for every file in it).
- **Time**: a worker still busy well past the per-file deadline (stuck
  where Python's alarm cannot reach) is killed and replaced.

Workers are forked from a server process that has imported the readers
once (`forkserver`), and live for the run: starting one costs an import
of the program's main module (Python's forkserver does not preload it),
about a second, paid per worker, not per file. Never a plain fork of the
caller: its threads (Dagster's, the classifier's warm-up) could leave
locks held in the child.
"""

from __future__ import annotations

import resource
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing import current_process, get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.context import ForkServerContext, ForkServerProcess
from pathlib import Path

from pipeline.ingest.errors import SourceChanged
from pipeline.ingest.process import MAX_SECONDS_PER_FILE, OUT_OF_MEMORY_MESSAGE, TIMEOUT_MESSAGE, declared_format, process_file
from pipeline.ingest.readers.headroom import address_space
from pipeline.ingest.sources import identity, source_name
from pipeline.model import DocumentResult

# What one extraction process may allocate beyond the program it is forked
# with (RLIMIT_AS is set at its current size plus this). Every national
# restitution is read with under 20 MiB of it; two processes at this
# limit, the run's own process (~550 MiB with the classifier) and the fork
# server stay under 1.5 GiB together.
MAX_WORKER_GROWTH = 256 * 1024 * 1024
# Address space a worker holds back beyond its limit (its hard limit): what
# refusing the file that reached the limit may take, when that happens
# outside the per-file boundary (hashing the file again, the answer).
_REFUSAL_RESERVE = 32 * 1024 * 1024
# A process this long past the deadline of process_file is stuck in C code.
_DEADLINE_GRACE_SECONDS = 30

Outcome = DocumentResult | SourceChanged


@dataclass(frozen=True)
class Extension:
    """A worker's word that its file's deadline moved back by `seconds` (a
    scan, once its page count is known): the watchdog moves it back too."""

    seconds: float


@dataclass
class _Worker:
    process: ForkServerProcess
    connection: Connection
    path: Path | None = None  # the file it is reading
    deadline: float = 0.0


def parse_in_processes(paths: list[Path], root: Path, workers: int,
                       memory_growth: int = MAX_WORKER_GROWTH) -> Iterator[tuple[Path, Outcome]]:
    """Each path's outcome, as the files finish, read by at most `workers`
    processes at once; the next file is handed out when the caller asks
    for the next outcome."""
    if current_process().daemon:
        # Celery's prefork pool runs each step in a daemonic process, which may
        # start none: there the files are read in that process, one by one (a
        # task per file, the worker pool being the isolation).
        yield from ((path, _read_here(path, root)) for path in paths)
        return
    context = _forkserver()
    waiting = list(reversed(paths))
    pool: list[_Worker] = []
    try:
        while waiting or any(worker.path for worker in pool):
            for worker in list(pool):
                if worker.path is None and not worker.process.is_alive():  # killed while idle
                    _stop(worker)
                    pool.remove(worker)
                elif worker.path is None and waiting:
                    _assign(worker, waiting.pop())
            while waiting and len(pool) < workers:
                pool.append(_start(context, root, memory_growth))
                _assign(pool[-1], waiting.pop())
            busy = [worker for worker in pool if worker.path is not None]
            timeout = max(0.0, min(worker.deadline for worker in busy) - time.monotonic())
            ready = wait([worker.connection for worker in busy], timeout=timeout)
            for worker in busy:
                path = worker.path
                if path is not None and (worker.connection in ready or time.monotonic() > worker.deadline):
                    outcome = _collect(worker, path, root)
                    if outcome is None:  # the worker only pushed its deadline back
                        continue
                    worker.path = None
                    # A heap that hit its limit is not trusted with the next file.
                    if not worker.process.is_alive() or _out_of_memory(outcome):
                        _stop(worker)
                        pool.remove(worker)
                    yield path, outcome
    finally:
        for worker in pool:
            _stop(worker)


def _read_here(path: Path, root: Path, on_extension: Callable[[float], None] | None = None) -> Outcome:
    try:
        return process_file(path, root, on_extension)
    except SourceChanged as exc:
        return exc


def _start(context: ForkServerContext, root: Path, memory_growth: int) -> _Worker:
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve, args=(theirs, root, memory_growth), daemon=True, name="egn-lecture")
    try:
        process.start()
        theirs.close()  # the worker holds the only other end: its death reads as end of file
        return _Worker(process, ours)
    except BaseException:  # the run stopped (SIGTERM, Ctrl-C) before the pool holds it: nor is it left behind
        if process.pid is not None:
            process.kill()
            process.join()
        ours.close()
        raise


def _assign(worker: _Worker, path: Path) -> None:
    """Hand `path` to `worker`. A worker that died before it could take it
    (killed between its start and this call: the pipe is broken) holds the
    file all the same: the loop then collects its death as for a worker
    that died reading it, a bounded outcome for that file, never a failed
    run."""
    try:
        worker.connection.send(path)
    except OSError:  # BrokenPipeError, ConnectionResetError: the worker is gone
        pass
    worker.path, worker.deadline = path, time.monotonic() + MAX_SECONDS_PER_FILE + _DEADLINE_GRACE_SECONDS


def _serve(connection: Connection, root: Path, memory_growth: int) -> None:
    """The worker: its memory limit, then one file at a time through the
    per-file boundary, until the run stops it."""
    limit = address_space() + memory_growth
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit + _REFUSAL_RESERVE))
    while True:
        try:
            path = connection.recv()
        except EOFError:  # the run is over
            return
        try:
            outcome = _read_here(path, root, lambda seconds: connection.send(Extension(seconds)))
        except MemoryError:
            # The limit met outside the per-file boundary (its own handling,
            # a library's cleanup): the reserve pays for the refusal, and the
            # worker, now past its limit, ends (a new one takes the next file).
            resource.setrlimit(resource.RLIMIT_AS, (limit + _REFUSAL_RESERVE, limit + _REFUSAL_RESERVE))
            connection.send(_refused(path, root, "too_large", OUT_OF_MEMORY_MESSAGE))
            return
        connection.send(outcome)


def _collect(worker: _Worker, path: Path, root: Path) -> Outcome | None:
    """The answer of the worker reading `path`; None while it has only
    pushed its deadline back (a scan: its pages are read by OCR, each with
    its own allowance); when it died without an answer or overran, its
    file refused (and the worker gone)."""
    timed_out = False
    try:
        while worker.connection.poll():
            message: Outcome | Extension = worker.connection.recv()
            if not isinstance(message, Extension):
                return message
            worker.deadline += message.seconds
        if worker.process.is_alive() and time.monotonic() <= worker.deadline:
            return None
        timed_out = worker.process.is_alive()
    except (EOFError, OSError):
        pass  # died before or while answering
    _stop(worker)
    return _stopped(path, root, worker.process.exitcode, timed_out)


def _out_of_memory(outcome: Outcome) -> bool:
    return isinstance(outcome, DocumentResult) and outcome.message == OUT_OF_MEMORY_MESSAGE


def _stop(worker: _Worker) -> None:
    worker.process.kill()
    worker.process.join()
    worker.connection.close()


def _stopped(path: Path, root: Path, exitcode: int | None, timed_out: bool) -> Outcome:
    """The file whose reader stopped (died, or overran its deadline)."""
    if timed_out:
        return _refused(path, root, "too_large", TIMEOUT_MESSAGE)
    message = (f"Le lecteur s'est arrêté brutalement sur ce fichier ({_cause(exitcode)}) : "
               "fichier mis de côté, les autres fichiers ont été lus.")
    return _refused(path, root, "corrupt", message)


def _refused(path: Path, root: Path, reason: str, message: str) -> Outcome:
    """A file refused without its reader's outcome. Its identity is taken
    again: if the file changed meanwhile, the refusal says nothing about
    what is there now."""
    try:
        current = identity(path, root)
    except OSError as exc:
        return SourceChanged(f"disparu ou illisible ({exc.strerror or exc})")
    name, kind = source_name(path.relative_to(root).as_posix()), declared_format(path)
    return DocumentResult(current[:16], name, kind, "rejected", reason, message, identity=current)


def _cause(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            return f"signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"signal {-exitcode}"
    return f"code de sortie {exitcode}"


def _forkserver() -> ForkServerContext:
    context = get_context("forkserver")
    # Not "__main__": Python 3.11's fork server ignores it (it looks for a
    # "main_path" its caller never passes); each worker imports it itself.
    context.set_forkserver_preload(["pipeline.ingest.isolation"])
    return context
