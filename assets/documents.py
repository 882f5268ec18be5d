"""Per-file assets, one partition per source file: extraction, then
classification. Both reuse a cached result when the file's content (and
the code) has not changed, so a run over unchanged files redoes nothing."""

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import dagster as dg

from assets.partitions import FILES
from assets.resources import ClassifierResource, Progress, RawFolder, ResultStore
from pipeline.intake import content_hash
from pipeline.classify.apply import classify_results
from pipeline.model import DocumentResult
from pipeline.process import process_file

OWNERS = ["team:donnees-egn"]
EXTRACTION, CLASSIFICATION = "extraction", "classification"
# Progress in the run's log every this many files (one event each is a
# database write); each file's outcome is in the step's metadata table.
PROGRESS_EVERY = 10


@dg.asset(
    partitions_def=FILES,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="extraction",
    kinds={"pdf", "docx"},
    owners=OWNERS,
    description=(
        "Lecture d'une trame de restitution (PDF ou Word) : métadonnées de la session, participants, "
        "RETEX, diagnostic, projections, plan d'action et fiches mesure. Un fichier illisible est mis "
        "en quarantaine avec sa raison. Un fichier déjà lu et inchangé n'est pas relu."
    ),
)
def document(context: dg.AssetExecutionContext, raw_folder: RawFolder, result_store: ResultStore,
             progress: Progress, classifier: ClassifierResource) -> dg.MaterializeResult:
    files = raw_folder.files_by_key()
    cache = result_store.cache
    keys = context.partition_keys
    todo: list[tuple[str, Path, str]] = []
    for key in keys:
        path = files.get(key)
        if path is None:
            context.log.warning(f"{key} : fichier absent du dossier source (supprimé ou déplacé).")
            continue
        todo.append((key, path, content_hash(path)))
    done: list[tuple[DocumentResult, bool]] = []
    for key, path, sha256, result, reused in _extract(todo, cache, raw_folder.root, classifier.warm_up_in_background):
        result.source_file = raw_folder.relative(path)
        cache.record(key, sha256, result.source_file)
        done.append((result, reused))
        progress.document(len(done), len(todo), result, reused)
        if result.status != "ok":
            context.log.warning(f"{result.source_file} : {result.status} – {result.message}")
        if len(done) % PROGRESS_EVERY == 0 or len(done) == len(todo):
            context.log.info(f"{len(done)}/{len(todo)} fichiers lus ({sum(r for _, r in done)} depuis le cache).")
    return dg.MaterializeResult(metadata=_extraction_metadata(done))


def _workers() -> int:
    """Extraction processes: EGN_WORKERS, by default one per core."""
    return max(1, int(os.environ.get("EGN_WORKERS", os.cpu_count() or 1)))


def _extract(todo, cache, root: Path, while_workers_parse):
    """Cached results first, then the new files, spread over the cores.

    Parsing a PDF is CPU-bound Python (pdfminer): processes, not threads.
    Each worker keeps the per-file boundary (and its deadline) of
    process_file, so a file that crashes or hangs a worker's parse is
    still just a quarantined file. With several workers this process only
    waits for them: `while_workers_parse` starts its own work meanwhile.
    """
    pending = []
    for key, path, sha256 in todo:
        result = cache.get(EXTRACTION, sha256)
        if result is None:
            pending.append((key, path, sha256))
        else:
            yield key, path, sha256, result, True
    # Largest files first, so that no process is left with a long file at the end.
    pending.sort(key=lambda entry: -entry[1].stat().st_size)
    workers = min(_workers(), len(pending))
    if workers <= 1:
        results = (process_file(path, root) for _, path, _ in pending)
    else:
        while_workers_parse()
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
        results = pool.map(process_file, [path for _, path, _ in pending], [root] * len(pending))
    try:
        for (key, path, sha256), result in zip(pending, results):
            cache.put(EXTRACTION, sha256, result)
            yield key, path, sha256, result, False
    finally:
        if workers > 1:
            pool.shutdown(cancel_futures=True)


@dg.asset(
    partitions_def=FILES,
    backfill_policy=dg.BackfillPolicy.single_run(),
    deps=[document],
    group_name="classification",
    kinds={"spacy"},
    owners=OWNERS,
    description=(
        "Classe chaque irritant, point fort, besoin, levier, action et difficulté d'une restitution dans "
        "les 13 catégories de la taxonomie (modèle spaCy entraîné + indices lexicaux) : catégorie "
        "principale, catégories secondaires, score de confiance."
    ),
)
def classified_document(context: dg.AssetExecutionContext, result_store: ResultStore,
                        classifier: ClassifierResource) -> dg.MaterializeResult:
    cache = result_store.cache
    pending: list[tuple[str, DocumentResult]] = []
    reused = 0
    for key in context.partition_keys:
        entry = cache.recorded(key)
        if entry is None:
            continue
        if cache.has(CLASSIFICATION, entry["sha256"]):
            reused += 1
            continue
        extracted = cache.get(EXTRACTION, entry["sha256"])
        if extracted is not None:
            pending.append((entry["sha256"], extracted))
    n_items = classify_results([result for _, result in pending], classifier.classifier) if pending else 0
    categories = Counter(i.category for _, r in pending for i in r.items if i.category)
    for sha256, result in pending:
        cache.put(CLASSIFICATION, sha256, result)
    table = "\n".join(f"| {code} | {n} |" for code, n in categories.most_common())
    return dg.MaterializeResult(metadata={
        "documents classés": len(pending),
        "documents déjà classés (cache)": reused,
        "énoncés classés": n_items,
        "catégories": dg.MetadataValue.md("| catégorie | énoncés |\n|---|---|\n" + table if table else "_(aucun)_"),
    })


def _extraction_metadata(done: list[tuple[DocumentResult, bool]]) -> dict:
    statuses = Counter(result.status for result, _ in done)
    lines = ["| fichier | statut | sections | énoncés par rôle | pages | durée | message |",
             "|---|---|---|---|---|---|---|"]
    for r, reused in done:
        sections = ", ".join(sorted(r.restitution.sections_found)) if r.restitution else ""
        roles = Counter(item.role for item in r.items)
        by_role = ", ".join(f"{role} {n}" for role, n in sorted(roles.items()))
        duration = "cache" if reused else f"{r.seconds:.1f} s"
        message = r.message.replace("|", "/")
        lines.append(f"| {r.source_file} | {r.status} | {sections} | {by_role} | {r.n_pages or ''} | {duration} | {message} |")
    return {
        "fichiers": len(done),
        "ok": statuses["ok"],
        "partiels": statuses["partial"],
        "rejetés": statuses["rejected"],
        "relus depuis le cache": sum(reused for _, reused in done),
        "énoncés": sum(len(r.items) for r, _ in done),
        "par document": dg.MetadataValue.md("\n".join(lines)),
    }
