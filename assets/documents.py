"""The per-file asset, one partition per source file: each restitution is
read, then its statements are classified. A file whose content (and the
code) has not changed is neither read nor classified again: both results
are cached by content, separately, so a new model re-classifies without
re-reading."""

import copy
import os
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from enum import Enum
from pathlib import Path

import dagster as dg

# Not exported by `dagster`: what ties a check's result to the materialisation it judged.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from assets.partitions import FILES
from assets.resources import ClassifierResource, Progress, RawFolder, ResultStore
from pipeline.classify.apply import classifiable_items, classify_items
from pipeline.ingest.errors import SourceChanged
from pipeline.ingest.isolation import parse_in_processes
from pipeline.labels import (
    EXPECTED_SECTION_LABELS,
    FILE_FORMAT_LABELS,
    ORIGIN_LABELS,
    ROLE_PLURALS,
    SECTION_LABELS,
    YES_NO,
    category_labels,
    label,
    status_label,
)
from pipeline.model import DocumentResult
from pipeline.ingest.sources import identity

OWNERS = ["team:donnees-egn"]
EXTRACTION, CLASSIFICATION = "extraction", "classification"
# Progress in the run's log every this many files (one event each is a
# database write); each file's outcome is in its partition's metadata.
PROGRESS_EVERY = 10


class Origin(Enum):
    """Where a file's result comes from in this run (values: codes of
    pipeline.labels.ORIGIN_LABELS)."""

    CLASSIFIED = "cache"  # read and classified by an earlier run
    READ = "reclasse"  # read by an earlier run, classified now (new model or taxonomy)
    NEW = "lu"  # read and classified now


# One result per file and run, on the file's partition: the partition view
# and the check's partition bar show which files were not integrated, while
# the run itself succeeds (a quarantined file is a normal outcome, see
# assets/cli.py). Dagster 1.13 calls partitioned checks a preview; this
# version is pinned (pyproject.toml).
INTEGRATION_CHECK = "integration_du_fichier"
with warnings.catch_warnings():
    warnings.simplefilter("ignore", dg.PreviewWarning)
    INTEGRATION_SPEC = dg.AssetCheckSpec(
        INTEGRATION_CHECK, asset="document", partitions_def=FILES,
        description=(
            "Le fichier est intégré en entier. En échec (erreur) s'il est rejeté, en avertissement s'il n'est "
            "intégré qu'en partie ; le message dit pourquoi et, pour un fichier rejeté, le département supposé."
        ),
    )
# How a file that is not integrated shows: a rejected one as an error, a partial one as a warning.
SEVERITY = {"rejected": dg.AssetCheckSeverity.ERROR, "partial": dg.AssetCheckSeverity.WARN}
# Run tags (shown in the run list) counting the files that were not integrated.
REJECTED_TAG, PARTIAL_TAG = "egn/fichiers-rejetes", "egn/fichiers-partiels"


@dg.asset(
    partitions_def=FILES,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[INTEGRATION_SPEC],
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
             progress: Progress, classifier: ClassifierResource) -> Iterator:
    files = raw_folder.files_by_key()
    cache = result_store.cache
    todo: list[tuple[str, Path, str]] = []
    for key in context.partition_keys:
        path = files.get(key)
        if path is None:
            context.log.warning(f"{key} : fichier absent du dossier source (supprimé ou déplacé).")
            continue
        try:
            todo.append((key, path, identity(path, raw_folder.root)))
        except OSError as exc:
            context.log.warning(f"{key} : fichier illisible ({exc.strerror or exc}), ignoré pour cette exécution.")
    started = time.perf_counter()
    read: list[tuple[str, DocumentResult, Origin]] = []
    # Closed on any exit: a run stopped here (SIGTERM, Ctrl-C) stops the
    # extraction processes now, not when the generator is collected.
    with closing(_read(todo, cache, raw_folder.root, classifier.warm_up_in_background)) as outcomes:
        for key, outcome, origin in outcomes:
            if isinstance(outcome, SourceChanged):
                context.log.warning(f"{key} : fichier {outcome} ; ignoré pour cette exécution, il sera lu à la prochaine.")
                continue
            result = outcome
            result.source_file = raw_folder.relative(files[key])
            read.append((key, result, origin))
            progress.document(len(read), len(todo), result, reused=origin is not Origin.NEW)
            if result.status != "ok":
                context.log.warning(f"{result.source_file} : {status_label(result.status, result.reason)}. {result.message}")
            if len(read) % PROGRESS_EVERY == 0 or len(read) == len(todo):
                context.log.info(f"{len(read)}/{len(todo)} fichiers lus ou repris du cache.")
    reading = time.perf_counter() - started
    # In one batch: the model is loaded by then, and spaCy is fastest on large batches.
    unclassified = [result for _, result, origin in read if origin is not Origin.CLASSIFIED]
    statements = classifiable_items(unclassified)
    if statements:
        classify_items(statements, classifier.classifier)
    else:
        classifier.settle()
    classifying = time.perf_counter() - started - reading
    for key, result, origin in read:
        if origin is not Origin.CLASSIFIED:
            cache.put(CLASSIFICATION, result.identity, result)
        cache.record(key, result.identity, result.source_file)
        context.add_asset_metadata(_file_metadata(result, origin), partition_key=key)
    # The run's summary: an observation of the asset as a whole (the metadata
    # above is each file's own).
    origins = Counter(origin for *_, origin in read)
    statuses = Counter(result.status for _, result, _ in read)
    context.log_event(dg.AssetObservation(asset_key=context.asset_key, metadata={
        "fichiers": len(read), "ok": statuses["ok"], "partiels": statuses["partial"], "rejetés": statuses["rejected"],
        "lus": origins[Origin.NEW], "reclassés": origins[Origin.READ], "repris du cache": origins[Origin.CLASSIFIED],
        "énoncés classés": len(statements),
        "durée de lecture (s)": round(reading, 2), "durée du classement (s)": round(classifying, 2),
    }))
    yield dg.MaterializeResult()
    if INTEGRATION_SPEC.key in context.selected_asset_check_keys:
        yield from _integration_results(context, {key: result for key, result, _ in read})
    not_integrated = {REJECTED_TAG: statuses["rejected"], PARTIAL_TAG: statuses["partial"]}
    if any(not_integrated.values()):
        context.instance.add_run_tags(context.run.run_id, {tag: str(n) for tag, n in not_integrated.items() if n})


def _integration_results(context: dg.AssetExecutionContext, results: dict[str, DocumentResult]) -> Iterator:
    """The check's output, then one evaluation per file on its partition,
    each pointing to the materialisation this run just recorded for that
    partition: Dagster shows a check result as current only when it targets
    the partition's latest materialisation. (A check result yielded the
    usual way names no partition in a run over a range of partitions.)"""
    yield dg.Output(None, output_name=context.assets_def.get_output_name_for_asset_check_key(INTEGRATION_SPEC.key))
    # This run wrote one materialisation per file, after any earlier one: the latest records.
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=context.asset_key, asset_partitions=list(results)), limit=len(results)).records
    targets = {record.partition_key: AssetCheckEvaluationTargetMaterializationData(
        storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp)
        for record in records if record.run_id == context.run.run_id}
    for key, result in results.items():
        status = status_label(result.status, result.reason)
        yield dg.AssetCheckEvaluation(
            asset_key=context.asset_key, check_name=INTEGRATION_CHECK, partition=key,
            passed=result.status == "ok", severity=SEVERITY.get(result.status, dg.AssetCheckSeverity.ERROR),
            description=status, target_materialization_data=targets.get(key),
            metadata={"fichier": result.source_file, "statut": status, "message": result.message},
        )


def _workers() -> int:
    """Extraction processes: EGN_WORKERS, by default one per core."""
    return max(1, int(os.environ.get("EGN_WORKERS", os.cpu_count() or 1)))


def _read(todo, cache, root: Path, while_workers_parse):
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
    pending: dict[str, list[tuple[str, Path]]] = {}
    for key, path, sha256 in todo:
        if (result := cache.get(CLASSIFICATION, sha256)) is not None:
            yield key, result, Origin.CLASSIFIED
        elif (result := cache.get(EXTRACTION, sha256)) is not None:
            yield key, result, Origin.READ
        else:
            pending.setdefault(sha256, []).append((key, path))
    if not pending:
        return
    while_workers_parse()
    # Largest files first, so that no process is left with a long file at the end.
    first = sorted((files[0] for files in pending.values()), key=lambda entry: -_size(entry[1]))
    same_bytes = {files[0][1]: files for files in pending.values()}
    for path, outcome in parse_in_processes([path for _, path in first], root, _workers()):
        if isinstance(outcome, DocumentResult):
            cache.put(EXTRACTION, outcome.identity, outcome)
        for key, _ in same_bytes[path]:  # one read for files of the same content
            yield key, copy.copy(outcome), Origin.NEW


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


# The sections a parsed file may have, in the template's order (the
# session's table opens it, and is not one of the items' sections).
SECTION_NAMES = {"intro": EXPECTED_SECTION_LABELS["intro"], **SECTION_LABELS}


def _section_order(code: str) -> int:
    return list(SECTION_NAMES).index(code) if code in SECTION_NAMES else len(SECTION_NAMES)


def _file_metadata(result: DocumentResult, origin: Origin) -> dict:
    """What an analyst sees on the file's partition in the UI: French
    labels (pipeline.labels), never the contract's codes."""
    roles = Counter(item.role for item in result.items)
    categories = Counter(item.category for item in result.items if item.category)
    sections = result.restitution.sections_found if result.restitution else set()
    metadata = {
        "fichier": result.source_file,
        "statut": status_label(result.status, result.reason),
        "message": result.message,
        "format": label(FILE_FORMAT_LABELS, result.format),
        "sections trouvées": ", ".join(label(SECTION_NAMES, code) for code in sorted(sections, key=_section_order)),
        "énoncés": len(result.items),
        # In the document's order: roles as they first appear, categories by count.
        "énoncés par rôle": ", ".join(f"{label(ROLE_PLURALS, role)} : {n}" for role, n in roles.items()),
        "catégories": ", ".join(f"{label(category_labels(), code)} : {n}" for code, n in categories.most_common()),
        "provenance du résultat": ORIGIN_LABELS[origin.value],
        "lu par OCR": YES_NO[result.ocr],
    }
    if result.ocr_confidence is not None:
        metadata["confiance OCR"] = result.ocr_confidence
    if result.n_pages:
        metadata["pages"] = result.n_pages
    if origin is Origin.NEW:
        metadata["durée de lecture (s)"] = round(result.seconds, 2)
    return metadata
