"""`egn run --raw DIR --outputs DIR`: the same asset definitions, in-process.

No second code path: this materialises `ALL_ASSETS` exactly as the UI's
"Materialize all" does, with the folders given on the command line. A
quarantined file is a normal outcome; the exit code is non-zero only when
the run itself failed.
"""

from __future__ import annotations

import argparse
import os
import sys

import dagster as dg

from assets.definitions import ALL_ASSETS, resources


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="egn", description="Restitutions des États généraux du numérique.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="Traiter un dossier de restitutions et écrire les CSV du contrat.")
    run.add_argument("--raw", default=None, help="dossier des fichiers reçus (défaut : $EGN_RAW_DIR ou raw/)")
    run.add_argument("--outputs", default=None, help="dossier de sortie (défaut : $EGN_OUTPUTS_DIR ou outputs/)")
    args = parser.parse_args(argv)

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    with instance:
        result = dg.materialize(
            ALL_ASSETS,
            resources=resources(args.raw, args.outputs, echo=True),
            instance=instance,
            raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            tags={"dagster/from": "egn-cli"},
        )
    if not result.success:
        print("Échec de l'exécution : voir les journaux ci-dessus.", file=sys.stderr)
        return 1
    documents = result.asset_value("documents")
    counts = documents["status"].value_counts().to_dict()
    outputs = resources(args.raw, args.outputs)["outputs_folder"].root
    print(
        f"Terminé : {len(documents)} fichiers ({counts.get('ok', 0)} ok, {counts.get('partial', 0)} partiels, "
        f"{counts.get('rejected', 0)} rejetés). Résultats dans {outputs}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
