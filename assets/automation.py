"""What runs without anyone clicking: sensors on the raw folder and on the
corrections folder, a nightly refresh, and declarative automation for the
tables downstream."""

import json

import dagster as dg

from assets.documents import document
from assets.jobs import PIPELINE, everything_job, tables_job
from assets.partitions import FILES, partition_range_tags
from assets.publication import DATA_VERSION_TAG
from assets.resources import CorrectionsFolder, RawFolder
from pipeline.ingest.sources import identity
from pipeline.tables.corrections import correction_files, folder_version


@dg.sensor(
    name="nouveaux_fichiers",
    jobs=[everything_job, tables_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Surveille le dossier source. À chaque passage, une seule exécution traite tous les fichiers nouveaux "
        "ou modifiés puis refait les tables, le rapport et le classeur ; un fichier supprimé sort des agrégats. "
        "Une partition ajoutée à la main sans fichier est retirée, sans exécution."
    ),
)
def raw_folder_sensor(context: dg.SensorEvaluationContext, raw_folder: RawFolder) -> dg.SensorResult:
    """The cursor remembers each file's size, modification time and SHA-256.

    No wall-clock cursor: a file is compared with what was seen of it, so a
    file written during a tick is seen at the next one, never skipped. Only
    files whose size or time changed are hashed; a file is requested again
    when its content changed. The run key carries the tick number, so a file
    that gets back an earlier content is processed again.

    One run per tick, whatever the number of files: the per-file step reads
    them in parallel in one process that loads the classifier once, and the
    tables are rebuilt once, in the same run (`egn run`'s cost, not a run
    per file). The run covers the partitions from the first changed file to
    the last, in the partitions' order (a new file's partition comes last);
    unchanged files in between come from the cache.
    """
    state = json.loads(context.cursor) if context.cursor else {"tick": 0, "files": {}}
    seen: dict = state["files"]
    partitions = context.instance.get_dynamic_partitions(FILES.name)  # in the partitions' order
    known = set(partitions)
    tick = state["tick"] + 1
    files: dict = {}
    added, changed = [], []
    for key, path in raw_folder.files_by_key().items():
        try:
            stat = path.stat() if path.exists() else path.lstat()  # a dangling link has only its own
            signature = [stat.st_size, stat.st_mtime_ns]
            before = seen.get(key)
            if before and before["signature"] == signature and key in known:
                files[key] = before
                continue
            sha256 = identity(path, raw_folder.root)
        except OSError:  # gone or unreadable since it was listed: seen at a later tick
            continue
        files[key] = {"signature": signature, "sha256": sha256}
        if key not in known:
            added.append(key)
        if key not in known or not before or before["sha256"] != sha256:
            changed.append(key)
    gone = [key for key in partitions if key not in files]
    requests = []
    if changed:
        wanted = set(changed)
        order = [key for key in partitions if key in files] + sorted(added)
        requests.append(dg.RunRequest(job_name=everything_job.name, run_key=f"fichiers#{tick}",
                                      tags=partition_range_tags([key for key in order if key in wanted])))
    elif _ever_processed(context.instance, gone):  # their rows must leave the aggregates
        requests.append(dg.RunRequest(job_name=tables_job.name, run_key=f"suppression#{tick}"))
    partition_requests = []
    if added:
        partition_requests.append(FILES.build_add_request(sorted(added)))
    if gone:
        partition_requests.append(FILES.build_delete_request(gone))
    state = {"tick": tick if requests else state["tick"], "files": files}
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partition_requests,
                           cursor=json.dumps(state, sort_keys=True))


def _ever_processed(instance: dg.DagsterInstance, keys: list[str]) -> bool:
    """Whether one of these partitions was ever materialised. One that never
    was holds nothing the tables show: a partition added by hand in the UI
    ("Add a partition") for a file that is not there is dropped without a run."""
    if not keys:
        return False
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=document.key, asset_partitions=keys), limit=1)
    return bool(found.records)


@dg.sensor(
    name="nouvelles_corrections",
    jobs=[tables_job],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Surveille le dossier des corrections : un fichier ajouté, enregistré ou supprimé met à jour les "
        "tables, agrégats, rapport et classeur (sans relire ni reclasser aucun document)."
    ),
)
def corrections_sensor(context: dg.SensorEvaluationContext, corrections_folder: CorrectionsFolder) -> dg.SensorResult:
    """The cursor holds each file's size and modification time: files are
    hashed (`pipeline.tables.corrections.folder_version`, the observation's data
    version) only when one of them changed. The time counts, not only the
    content: among files correcting the same item, the most recently
    modified wins. Each change is an observation of the source asset
    `corrections` and a run of the tables; a first look at an empty folder
    is an observation only."""
    state = json.loads(context.cursor) if context.cursor else {"tick": 0, "files": None}
    folder = corrections_folder.root
    files = {path.relative_to(folder).as_posix(): [path.stat().st_size, path.stat().st_mtime_ns]
             for path in correction_files(folder)}
    if files == state["files"]:
        return dg.SensorResult(cursor=context.cursor)
    version, tick = folder_version(folder), state["tick"] + 1
    observation = dg.AssetObservation(
        asset_key="corrections", tags={DATA_VERSION_TAG: version},
        metadata={"fichiers": len(files), "dossier": dg.MetadataValue.path(str(folder))},
    )
    first_look_at_nothing = state["files"] is None and not files
    requests = [] if first_look_at_nothing else [
        dg.RunRequest(job_name=tables_job.name, run_key=f"corrections@{version}#{tick}")]
    return dg.SensorResult(run_requests=requests, asset_events=[observation],
                           cursor=json.dumps({"tick": tick, "files": files}, sort_keys=True))


@dg.schedule(
    name="rafraichissement_nocturne",
    job=everything_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Paris",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description=(
        "Chaque nuit à 2 h (heure de Paris) : une seule exécution qui traite les fichiers manquants ou "
        "modifiés (les autres viennent du cache) et reconstruit toute la synthèse nationale."
    ),
)
def nightly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    keys = context.instance.get_dynamic_partitions(FILES.name)
    if not keys:
        return dg.SkipReason("Aucun fichier dans le dossier source.")
    return dg.RunRequest(run_key=None, tags=partition_range_tags(keys))


# Tables and aggregates follow their inputs on their own (AutomationCondition.eager()).
automation_sensor = dg.AutomationConditionSensorDefinition(
    name="mise_a_jour_automatique",
    target=PIPELINE,
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
    description="Met à jour les tables et agrégats dès qu'un fichier a été traité.",
)
