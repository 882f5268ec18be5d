"""`egn run --raw DIR --outputs DIR`: the same asset definitions, in-process.

No second code path: it registers the folder's files as partitions (as the
sensor does) and materialises every asset in one run over all partitions
(as the nightly schedule does). When no file changed since the outputs
were last published, and they are still as written, there is nothing to
run (see assets/publication.py). A quarantined file is a normal outcome;
the exit code is non-zero only when the run itself failed.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

import dagster as dg

from assets.partitions import FILES, partition_range_tags
from assets.publication import current_version, is_published
from assets.resources import resources
from pipeline.sources import identities


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="egn", description="Restitutions des États généraux du numérique.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="Traiter un dossier de restitutions et écrire les CSV du contrat.")
    run.add_argument("--raw", default=None, help="dossier des fichiers reçus (défaut : $EGN_RAW_DIR ou raw/)")
    run.add_argument("--outputs", default=None, help="dossier de sortie (défaut : $EGN_OUTPUTS_DIR ou outputs/)")
    args = parser.parse_args(argv)

    # Dagster's own switch: a run over a range of partitions writes one
    # "planned" event per asset for the whole range instead of one per file.
    # On SQLite each event is a separate write (about 20 ms for an asset
    # event: 2 s for the 101 files of a national run). Dagster's stated
    # cost: if the run itself fails, its partitions are not marked failed;
    # a bad file never fails the run.
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    chosen = resources(args.raw, args.outputs, echo=True)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with instance:
        result = materialize_all(chosen, instance, quiet=True)
    # The process ends with this command: the garbage collection Python runs
    # at exit would walk everything the run loaded (spaCy's model, the
    # tables) only to free it, 2.5 s after a national run.
    gc.freeze()
    if result is None:
        print(f"Rien à refaire : aucun fichier n'a changé depuis la dernière publication. "
              f"Résultats dans {chosen['outputs_folder'].root}")
        return 0
    if not result.success:
        print("Échec de l'exécution : voir les journaux ci-dessus.", file=sys.stderr)
        return 1
    documents = result.asset_value("documents")
    counts = documents["status"].value_counts().to_dict()
    print(
        f"Terminé : {len(documents)} fichiers ({counts.get('ok', 0)} ok, {counts.get('partial', 0)} partiels, "
        f"{counts.get('rejected', 0)} rejetés). Résultats dans {chosen['outputs_folder'].root}"
    )
    return 0


def materialize_all(chosen: dict, instance: dg.DagsterInstance, quiet: bool = False) -> dg.ExecuteInProcessResult | None:
    """Every asset and check, in one run: the per-file asset over the files
    that changed since they were last processed (none: tables only), then
    the tables and aggregates over all the folder's files. None when the
    instance shows the outputs already published from these very files."""
    files = chosen["raw_folder"].files_by_key()
    keys = sync_partitions(instance, list(files))
    cache = chosen["result_store"].cache
    contents = identities({key: files[key] for key in keys}, chosen["raw_folder"].root)
    stale = [key for key in contents if not cache.is_done(key, contents[key])]
    if not stale and is_published(instance, current_version(contents, chosen["raw_folder"].root)):
        return None
    # Imported here: a rerun with nothing to do does not pay for loading every asset.
    from assets.checks import ALL_CHECKS
    from assets.definitions import ALL_ASSETS
    from assets.jobs import PER_FILE

    # A run covers a range of partitions: from the first stale file to the last
    # (unchanged files in between come from the cache at no cost).
    tags = partition_range_tags(stale) if stale else {}
    if chosen["progress"].echo and len(stale) < len(keys):
        print(f"{len(keys) - len(stale)} fichier(s) inchangé(s) depuis leur dernière lecture.")
    return dg.materialize(
        [*ALL_ASSETS, *ALL_CHECKS],
        resources=chosen,
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}} if quiet else None,
        tags={"dagster/from": "egn-cli", **tags},
        selection=None if stale else dg.AssetSelection.all() - PER_FILE,
    )


def sync_partitions(instance: dg.DagsterInstance, keys: list[str]) -> list[str]:
    """Make the partitions match the folder's files, as the sensor does."""
    known = set(instance.get_dynamic_partitions(FILES.name))
    new = [key for key in keys if key not in known]
    gone = [key for key in known if key not in set(keys)]
    if new:
        instance.add_dynamic_partitions(FILES.name, new)
    for key in gone:
        instance.delete_dynamic_partition(FILES.name, key)
    return instance.get_dynamic_partitions(FILES.name)


if __name__ == "__main__":
    sys.exit(main())
