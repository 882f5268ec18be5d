"""Publication: the contract's CSV files and a DuckDB copy, written atomically."""


import dagster as dg
import pandas as pd

from assets.publication import fingerprints
from assets.resources import OutputsFolder
from pipeline.contract import COLUMNS
from pipeline.export import write_duckdb, write_tables

DUCKDB_FILE = "egn.duckdb"


@dg.asset(
    group_name="agregats",
    kinds={"csv", "duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
    # One writer at a time: DuckDB holds a single-writer lock and the CSV
    # files must not interleave (see dagster.yaml: pool limit 1).
    pool="egn_outputs",
    owners=["team:donnees-egn"],
    description=(
        "Écrit les fichiers CSV du contrat dans le dossier de sortie (et la base DuckDB egn.duckdb "
        "qui contient les mêmes tables). Chaque fichier est remplacé d'un bloc : un lecteur voit "
        "l'ancienne version complète ou la nouvelle, jamais un fichier à moitié écrit."
    ),
)
def contract_files(
    outputs_folder: OutputsFolder,
    documents: pd.DataFrame,
    participants: pd.DataFrame,
    items: pd.DataFrame,
    actions: pd.DataFrame,
    quarantine: pd.DataFrame,
    theme_summary: pd.DataFrame,
    category_summary: pd.DataFrame,
    department_theme_matrix: pd.DataFrame,
    actors_summary: pd.DataFrame,
    participants_summary: pd.DataFrame,
    review_queue: pd.DataFrame,
    corrections_applied: pd.DataFrame,
    recurring_statements: pd.DataFrame,
) -> dg.MaterializeResult:
    frames = dict(
        documents=documents, participants=participants, items=items, actions=actions,
        quarantine=quarantine, theme_summary=theme_summary, category_summary=category_summary,
        department_theme_matrix=department_theme_matrix, actors_summary=actors_summary,
        participants_summary=participants_summary, review_queue=review_queue,
        corrections_applied=corrections_applied, recurring_statements=recurring_statements,
    )
    written = write_tables(outputs_folder.root, {name: frames[name] for name in COLUMNS})
    database = outputs_folder.root / DUCKDB_FILE
    write_duckdb(database, written)
    listing = "\n".join(f"- `{path.name}` : {len(frames[name])} lignes" for name, path in written.items())
    return dg.MaterializeResult(
        metadata={
            "dossier": dg.MetadataValue.path(str(outputs_folder.root)),
            "base DuckDB": dg.MetadataValue.path(str(database)),
            "fichiers": dg.MetadataValue.md(listing),
            **fingerprints([*written.values(), database]),
        }
    )
