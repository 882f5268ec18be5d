"""The per-file asset, one partition per source file: each restitution is
read, then its statements are classified. A file whose content (and the
code) has not changed is neither read nor classified again: both results
are cached by content, separately, so a new model re-classifies without
re-reading."""

import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from enum import Enum, auto
from multiprocessing import get_context
from pathlib import Path

import dagster as dg

from assets.partitions import FILES
from assets.resources import ClassifierResource, Progress, RawFolder, ResultStore
from pipeline.classify.apply import classifiable_items, classify_items
from pipeline.intake import content_hash
from pipeline.model import DocumentResult
from pipeline.process import process_file

OWNERS = ["team:donnees-egn"]
EXTRACTION, CLASSIFICATION = "extraction", "classification"
# Progress in the run's log every this many files (one event each is a
# database write); each file's outcome is in its partition's metadata.
PROGRESS_EVERY = 10


class Origin(Enum):
    """Where a file's result comes from in this run."""

    CLASSIFIED = auto()  # read and classified by an earlier run
    READ = auto()  # read by an earlier run, classified now (new model or taxonomy)
    NEW = auto()  # read and classified now


@dg.asset(
    partitions_def=FILES,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="restitutions",
    kinds={"pdf", "docx", "spacy"},
    owners=OWNERS,
    description=(
        "Lecture et classement d'une trame de restitution (PDF ou Word) : métadonnées de la session, "
        "participants, RETEX, diagnostic, projections, plan d'action et fiches mesure ; chaque irritant, "
        "point fort, besoin, levier, action et difficulté est classé dans les 13 catégories de la "
        "taxonomie (modèle spaCy entraîné + indices lexicaux). Un fichier illisible est mis en "
        "quarantaine avec sa raison. Un fichier déjà traité et inchangé n'est ni relu ni reclassé."
    ),
)
def document(context: dg.AssetExecutionContext, raw_folder: RawFolder, result_store: ResultStore,
             progress: Progress, classifier: ClassifierResource) -> dg.MaterializeResult:
    files = raw_folder.files_by_key()
    cache = result_store.cache
    todo: list[tuple[str, Path, str]] = []
    for key in context.partition_keys:
        path = files.get(key)
        if path is None:
            context.log.warning(f"{key} : fichier absent du dossier source (supprimé ou déplacé).")
            continue
        todo.append((key, path, content_hash(path)))
    started = time.perf_counter()
    read: list[tuple[str, str, DocumentResult, Origin]] = []
    # Closed on any exit: a run stopped here (SIGTERM, Ctrl-C) terminates the
    # extraction processes now, not when the generator is collected.
    with closing(_read(todo, cache, raw_folder.root, classifier.warm_up_in_background)) as results:
        for key, path, sha256, result, origin in results:
            result.source_file = raw_folder.relative(path)
            read.append((key, sha256, result, origin))
            progress.document(len(read), len(todo), result, reused=origin is not Origin.NEW)
            if result.status != "ok":
                context.log.warning(f"{result.source_file} : {result.status} – {result.message}")
            if len(read) % PROGRESS_EVERY == 0 or len(read) == len(todo):
                context.log.info(f"{len(read)}/{len(todo)} fichiers lus ou repris du cache.")
    reading = time.perf_counter() - started
    # In one batch: the model is loaded by then, and spaCy is fastest on large batches.
    unclassified = [result for _, _, result, origin in read if origin is not Origin.CLASSIFIED]
    statements = classifiable_items(unclassified)
    if statements:
        classify_items(statements, classifier.classifier)
    classifying = time.perf_counter() - started - reading
    for key, sha256, result, origin in read:
        if origin is not Origin.CLASSIFIED:
            cache.put(CLASSIFICATION, sha256, result)
        cache.record(key, sha256, result.source_file)
        context.add_asset_metadata(_file_metadata(result, origin), partition_key=key)
    # The run's summary: an observation of the asset as a whole (the metadata
    # above is each file's own).
    origins = Counter(origin for *_, origin in read)
    statuses = Counter(result.status for _, _, result, _ in read)
    context.log_event(dg.AssetObservation(asset_key=context.asset_key, metadata={
        "fichiers": len(read), "ok": statuses["ok"], "partiels": statuses["partial"], "rejetés": statuses["rejected"],
        "lus": origins[Origin.NEW], "reclassés": origins[Origin.READ], "repris du cache": origins[Origin.CLASSIFIED],
        "énoncés classés": len(statements),
        "durée de lecture (s)": round(reading, 2), "durée du classement (s)": round(classifying, 2),
    }))
    return dg.MaterializeResult()


def _workers() -> int:
    """Extraction processes: EGN_WORKERS, by default one per core."""
    return max(1, int(os.environ.get("EGN_WORKERS", os.cpu_count() or 1)))


def _read(todo, cache, root: Path, while_workers_parse):
    """Cached results first, then the new files, spread over the cores.

    Parsing a PDF is CPU-bound Python (pdfminer): processes, not threads.
    Each worker keeps the per-file boundary (and its deadline) of
    process_file, so a file that crashes or hangs a worker's parse is
    still just a quarantined file. With several workers this process only
    waits for them: `while_workers_parse` starts its own work meanwhile.
    """
    pending = []
    for key, path, sha256 in todo:
        if (result := cache.get(CLASSIFICATION, sha256)) is not None:
            yield key, path, sha256, result, Origin.CLASSIFIED
        elif (result := cache.get(EXTRACTION, sha256)) is not None:
            yield key, path, sha256, result, Origin.READ
        else:
            pending.append((key, path, sha256))
    # Largest files first, so that no process is left with a long file at the end.
    pending.sort(key=lambda entry: -entry[1].stat().st_size)
    workers = min(_workers(), len(pending))
    pool = None
    try:
        if workers <= 1:
            results = (process_file(path, root) for _, path, _ in pending)
        else:
            while_workers_parse()
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=_forkserver())
            results = pool.map(process_file, [path for _, path, _ in pending], [root] * len(pending))
        for (key, path, sha256), result in zip(pending, results):
            cache.put(EXTRACTION, sha256, result)
            yield key, path, sha256, result, Origin.NEW
    except BaseException:
        if pool is not None:
            # Stopped (SIGTERM, Ctrl-C), even while the processes start, or
            # failed: the files being parsed are not waited for (up to their
            # deadline each). No public way before Python 3.14's terminate_workers().
            for process in list(pool._processes.values()):
                process.terminate()
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _forkserver():
    """Worker processes forked from a clean server process, which imports
    the program and the readers once: each "spawned" worker imported them
    itself (Dagster included, 2 s of CPU each, taken from the parsing).
    Never a plain fork of this process: its threads (Dagster's, the model's
    warm-up) could leave locks held in the child."""
    context = get_context("forkserver")
    context.set_forkserver_preload(["__main__", "pipeline.process"])
    return context


def _file_metadata(result: DocumentResult, origin: Origin) -> dict:
    """What an analyst sees on the file's partition in the UI."""
    roles = Counter(item.role for item in result.items)
    categories = Counter(item.category for item in result.items if item.category)
    metadata = {
        "fichier": result.source_file,
        "statut": result.status,
        "raison": result.reason or "",
        "message": result.message,
        "format": result.format,
        "sections": ", ".join(sorted(result.restitution.sections_found)) if result.restitution else "",
        "énoncés": len(result.items),
        "énoncés par rôle": ", ".join(f"{role} {n}" for role, n in sorted(roles.items())),
        "catégories": ", ".join(f"{code} {n}" for code, n in categories.most_common()),
        "relu": origin is Origin.NEW,
        "lu par OCR": result.ocr,
    }
    if result.ocr_confidence is not None:
        metadata["confiance OCR"] = result.ocr_confidence
    if result.n_pages:
        metadata["pages"] = result.n_pages
    if origin is Origin.NEW:
        metadata["durée de lecture (s)"] = round(result.seconds, 2)
    return metadata
