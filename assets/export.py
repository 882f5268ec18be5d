"""Publication: every output of a run — the contract's CSV files, their
DuckDB copy, the report, the workbook — appears in the outputs folder
together, or none does (pipeline/publish/folders.py), with `manifest.json` last."""

from pathlib import Path

import dagster as dg
import pandas as pd

from assets.resources import OutputsFolder, Progress
from assets.runs import POOL, process_tags
from assets.synthesis import REPORT_FILE, WORKBOOK_FILE
from pipeline.publish.export import write_duckdb, write_tables
from pipeline.publish.folders import MANIFEST, publish
from pipeline.publish.locks import Holder
from pipeline.tables.schemas import COLUMNS

DUCKDB_FILE = "egn.duckdb"


@dg.asset(
    group_name="agregats",
    kinds={"csv", "duckdb"},
    # One publication at a time, visible as such in the UI (dagster.yaml:
    # pool limit 1); the lock taken by `publish` guarantees it whatever the
    # instance, and the kernel frees it when a process dies.
    pool=POOL,
    ins={name: dg.AssetIn(name) for name in COLUMNS} | {"report": dg.AssetIn("synthesis_report"),
                                                        "workbook": dg.AssetIn("synthesis_workbook")},
    description=(
        "Publie d'un bloc tous les fichiers de sortie : les CSV du contrat, la base DuckDB egn.duckdb "
        "(les mêmes tables), le rapport et le classeur, puis manifest.json (exécution, heure, empreinte "
        "SHA-256 de chaque fichier). Un lecteur voit la publication précédente complète ou la nouvelle "
        "complète, jamais un mélange, même si l'exécution est interrompue."
    ),
)
def publication(context: dg.AssetExecutionContext, outputs_folder: OutputsFolder, progress: Progress,
                report: str, workbook: bytes,
                **tables: pd.DataFrame) -> dg.MaterializeResult:
    # Where this run's process lives: if it is killed while it holds the pool,
    # `egn run` can tell and free the pool (assets/runs.py).
    context.instance.add_run_tags(context.run.run_id, process_tags())

    def write(folder: Path) -> None:
        written = write_tables(folder, {name: tables[name] for name in COLUMNS})
        write_duckdb(folder / DUCKDB_FILE, written)
        (folder / REPORT_FILE).parent.mkdir()
        (folder / REPORT_FILE).write_text(report, encoding="utf-8")
        (folder / WORKBOOK_FILE).write_bytes(workbook)

    def waiting(holder: Holder | None) -> None:
        who = holder.describe() if holder else "une autre exécution"
        message = (f"Les sorties sont en cours de publication par {who} ; attente de sa fin "
                   f"(au plus {outputs_folder.wait_seconds} s).")
        context.log.warning(message)
        progress.say(message)

    manifest = publish(outputs_folder.root, context.run.run_id, write, outputs_folder.wait_seconds, waiting)
    listing = "\n".join(f"- `{f.path}` : {f.bytes} octets, SHA-256 `{f.sha256[:12]}…`" for f in manifest.files)
    return dg.MaterializeResult(metadata={
        "dossier": dg.MetadataValue.path(str(outputs_folder.root)),
        "manifeste": dg.MetadataValue.path(str(outputs_folder.root / MANIFEST)),
        "fichiers": dg.MetadataValue.md(listing),
        "publiée le": manifest.published_at,
    })
