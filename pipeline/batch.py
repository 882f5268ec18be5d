"""The per-file step of a run, for a batch of files: each restitution is
read, then its statements are classified. A file whose content (and the
code) has not changed is neither read nor classified again: both results
are cached by content, separately, so a new model re-classifies without
re-reading.

No Dagster here: the asset (assets/documents.py) maps its partitions to
`FileTask`s, calls `process_batch` and shows the `FileOutcome`s; progress
reaches it through a callback.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from pipeline.classify.apply import classifiable_items, classify_items
from pipeline.ingest.cache import ResultCache
from pipeline.ingest.errors import SourceChanged
from pipeline.ingest.isolation import parse_in_processes
from pipeline.ingest.sources import identity
from pipeline.model import DocumentResult

if TYPE_CHECKING:  # spaCy is heavy to import: only a run that classifies loads it
    from pipeline.classify.classifier import Classifier

# The cache's two stages: a file's reading, and its classification.
EXTRACTION, CLASSIFICATION = "extraction", "classification"


class Origin(Enum):
    """Where a file's result comes from in this run (values: codes of
    pipeline.labels.ORIGIN_LABELS)."""

    CLASSIFIED = "cache"  # read and classified by an earlier run
    READ = "reclasse"  # read by an earlier run, classified now (new model or taxonomy)
    NEW = "lu"  # read and classified now


@dataclass(frozen=True)
class FileTask:
    """One file to process: its key (the partition), where it is, the
    identity its results are cached under and its name in the outputs."""

    key: str
    path: Path
    sha256: str
    source_file: str

    @classmethod
    def of(cls, key: str, path: Path, root: Path, source_file: str) -> FileTask:
        """Hashes the file now (OSError when it cannot be read)."""
        return cls(key, path, identity(path, root), source_file)


@dataclass
class FileOutcome:
    """A file's result in this run and where it came from."""

    task: FileTask
    result: DocumentResult
    origin: Origin


@dataclass(frozen=True)
class ChangedFile:
    """A file that vanished or was rewritten while it was read: no outcome
    in this run, nothing cached (pipeline.ingest.errors.SourceChanged)."""

    task: FileTask
    error: SourceChanged


@dataclass(frozen=True)
class BatchResult:
    """The outcomes in the order the files were done, and the run's figures."""

    outcomes: list[FileOutcome]
    statements: int
    reading_seconds: float
    classifying_seconds: float


class ClassifierSource(Protocol):
    """The classifier as a run holds it: loaded at most once, in the
    background while the extraction processes read (assets.resources.ClassifierResource)."""

    def warm_up_in_background(self) -> None: ...

    def settle(self) -> None: ...

    @property
    def classifier(self) -> Classifier: ...


# Called after each file: a FileOutcome (with the number of files done so
# far) or a ChangedFile, then the number of files of the batch.
Progress = Callable[[FileOutcome | ChangedFile, int, int], None]


def process_batch(tasks: list[FileTask], cache: ResultCache, root: Path, classifier: ClassifierSource,
                  workers: int, progress: Progress) -> BatchResult:
    """Read the files the cache does not have (in `workers` processes),
    classify in one batch the statements not yet classified, and cache both
    stages and each file's outcome."""
    started = time.perf_counter()
    outcomes: list[FileOutcome] = []
    # Closed on any exit: a run stopped here (SIGTERM, Ctrl-C) stops the
    # extraction processes now, not when the generator is collected.
    with closing(_read(tasks, cache, root, workers, classifier.warm_up_in_background)) as read:
        for event in read:
            if isinstance(event, FileOutcome):
                event.result.source_file = event.task.source_file
                outcomes.append(event)
            progress(event, len(outcomes), len(tasks))
    reading = time.perf_counter() - started
    # In one batch: the model is loaded by then, and spaCy is fastest on large batches.
    statements = classifiable_items([o.result for o in outcomes if o.origin is not Origin.CLASSIFIED])
    if statements:
        classify_items(statements, classifier.classifier)
    else:
        classifier.settle()
    classifying = time.perf_counter() - started - reading
    for outcome in outcomes:
        if outcome.origin is not Origin.CLASSIFIED:
            cache.put(CLASSIFICATION, outcome.result.identity, outcome.result)
        cache.record(outcome.task.key, outcome.result.identity, outcome.result.source_file)
    return BatchResult(outcomes, len(statements), reading, classifying)


def _read(tasks: list[FileTask], cache: ResultCache, root: Path, workers: int,
          while_workers_parse: Callable[[], None]) -> Generator[FileOutcome | ChangedFile, None, None]:
    """Cached results first, then the new files, each parsed in a process
    of its own (pipeline.ingest.isolation: bounded memory, a crash costs one file).

    Parsing a PDF is CPU-bound Python (pdfminer): processes, not threads.
    Files of the same content are parsed once. An outcome is cached under
    the identity of the bytes the worker read, which may differ from the
    listing's when the file was rewritten meanwhile; a file that vanished
    or changed during its read (SourceChanged) is not cached. This process
    only waits for the workers: `while_workers_parse` starts its own work
    meanwhile.
    """
    pending: dict[str, list[FileTask]] = {}
    for task in tasks:
        if (result := cache.get(CLASSIFICATION, task.sha256)) is not None:
            yield FileOutcome(task, result, Origin.CLASSIFIED)
        elif (result := cache.get(EXTRACTION, task.sha256)) is not None:
            yield FileOutcome(task, result, Origin.READ)
        else:
            pending.setdefault(task.sha256, []).append(task)
    if not pending:
        return
    while_workers_parse()
    # Largest files first, so that no process is left with a long file at the end.
    first = sorted((same[0].path for same in pending.values()), key=lambda path: -_size(path))
    same_bytes = {same[0].path: same for same in pending.values()}
    for path, outcome in parse_in_processes(first, root, workers):
        if isinstance(outcome, DocumentResult):
            cache.put(EXTRACTION, outcome.identity, outcome)
        for task in same_bytes[path]:  # one read for files of the same content
            if isinstance(outcome, SourceChanged):
                yield ChangedFile(task, outcome)
            else:
                yield FileOutcome(task, copy.copy(outcome), Origin.NEW)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
