"""`egn run --raw DIR --outputs DIR`: the same asset definitions, in-process.

No second code path: it registers the folder's files as partitions (as the
sensor does) and materialises every asset in one run over all partitions
(as the nightly schedule does). A quarantined file is a normal outcome;
the exit code is non-zero only when the run itself failed.
"""

from __future__ import annotations

import argparse
import os
import sys

import dagster as dg

from assets.definitions import ALL_ASSETS, resources
from assets.checks import ALL_CHECKS
from assets.partitions import FILES, partition_range_tags


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="egn", description="Restitutions des États généraux du numérique.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="Traiter un dossier de restitutions et écrire les CSV du contrat.")
    run.add_argument("--raw", default=None, help="dossier des fichiers reçus (défaut : $EGN_RAW_DIR ou raw/)")
    run.add_argument("--outputs", default=None, help="dossier de sortie (défaut : $EGN_OUTPUTS_DIR ou outputs/)")
    args = parser.parse_args(argv)

    chosen = resources(args.raw, args.outputs, echo=True)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with instance:
        result = materialize_all(chosen, instance, quiet=True)
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


def materialize_all(chosen: dict, instance: dg.DagsterInstance, quiet: bool = False) -> dg.ExecuteInProcessResult:
    """Every asset and check, in one run over all the folder's files."""
    keys = sync_partitions(instance, list(chosen["raw_folder"].files_by_key()))
    per_file = dg.AssetSelection.assets("document", "classified_document")
    return dg.materialize(
        [*ALL_ASSETS, *ALL_CHECKS],
        resources=chosen,
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}} if quiet else None,
        tags={"dagster/from": "egn-cli", **(partition_range_tags(keys) if keys else {})},
        # With no file at all there is no partition to run: publish empty tables.
        selection=None if keys else dg.AssetSelection.all() - per_file,
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
