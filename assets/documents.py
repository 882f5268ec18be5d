"""The per-file asset, one partition per source file: it maps the run's
partitions to files and shows each file's outcome (metadata, check
result); the step itself, reading with the cache and classifying, is
pipeline/batch.py."""

import warnings
from collections import Counter
from collections.abc import Iterator

import dagster as dg

# Not exported by `dagster`: what ties a check's result to the materialisation it judged.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from assets.partitions import FILES
from assets.resources import (
    ClassifierResource,
    Extraction,
    Progress,
    RawFolder,
    ResultStore,
)
from pipeline.batch import ChangedFile, FileOutcome, FileTask, Origin, process_batch
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

# Progress in the run's log every this many files (one event each is a
# database write); each file's outcome is in its partition's metadata.
PROGRESS_EVERY = 10

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
    description=(
        "Lecture et classement d'une trame de restitution (PDF ou Word) : métadonnées de la session, "
        "participants, RETEX, diagnostic, projections, plan d'action et fiches mesure ; chaque irritant, "
        "point fort, besoin, levier, action et difficulté est classé dans les 13 catégories de la "
        "taxonomie (modèle spaCy entraîné + indices lexicaux). Un fichier illisible est mis en "
        "quarantaine avec sa raison. Un fichier déjà traité et inchangé n'est ni relu ni reclassé."
    ),
)
def document(context: dg.AssetExecutionContext, raw_folder: RawFolder, result_store: ResultStore,
             progress: Progress, classifier: ClassifierResource, extraction: Extraction) -> Iterator:
    files = raw_folder.files_by_key()
    tasks: list[FileTask] = []
    for key in context.partition_keys:
        path = files.get(key)
        if path is None:
            context.log.warning(f"{key} : fichier absent du dossier source (supprimé ou déplacé).")
            continue
        try:
            tasks.append(FileTask.of(key, path, raw_folder.root, raw_folder.relative(path)))
        except OSError as exc:
            context.log.warning(f"{key} : fichier illisible ({exc.strerror or exc}), ignoré pour cette exécution.")

    def report(event: FileOutcome | ChangedFile, done: int, total: int) -> None:
        if isinstance(event, ChangedFile):
            context.log.warning(f"{event.task.key} : fichier {event.error} ; ignoré pour cette exécution, "
                                f"il sera lu à la prochaine.")
            return
        result = event.result
        progress.document(done, total, result, reused=event.origin is not Origin.NEW)
        if result.status != "ok":
            context.log.warning(f"{result.source_file} : {status_label(result.status, result.reason)}. {result.message}")
        if done % PROGRESS_EVERY == 0 or done == total:
            context.log.info(f"{done}/{total} fichiers lus ou repris du cache.")

    batch = process_batch(tasks, result_store.cache, raw_folder.root, classifier, extraction.processes, report)
    for outcome in batch.outcomes:
        context.add_asset_metadata(_file_metadata(outcome.result, outcome.origin), partition_key=outcome.task.key)
    # The run's summary: an observation of the asset as a whole (the metadata
    # above is each file's own).
    origins = Counter(outcome.origin for outcome in batch.outcomes)
    statuses = Counter(outcome.result.status for outcome in batch.outcomes)
    context.log_event(dg.AssetObservation(asset_key=context.asset_key, metadata={
        "fichiers": len(batch.outcomes), "ok": statuses["ok"], "partiels": statuses["partial"],
        "rejetés": statuses["rejected"],
        "lus": origins[Origin.NEW], "reclassés": origins[Origin.READ], "repris du cache": origins[Origin.CLASSIFIED],
        "énoncés classés": batch.statements,
        "durée de lecture (s)": round(batch.reading_seconds, 2),
        "durée du classement (s)": round(batch.classifying_seconds, 2),
    }))
    yield dg.MaterializeResult()
    if INTEGRATION_SPEC.key in context.selected_asset_check_keys:
        yield from _integration_results(context, {outcome.task.key: outcome.result for outcome in batch.outcomes})
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
