"""Analysts' corrections and the review queue (contract v1.1).

`corrections` is the analysts' folder, a source asset that Dagster does not
build: the sensor `nouvelles_corrections` observes it (assets/automation.py)
and, when a file is added, saved or removed, starts a run of the tables.
That run applies the corrections to the items as the per-file cache holds
them: no document is read or classified again.

The review queue needs the recurring statements, which need the corrected
items, and items.csv says which items are in the queue: hence
`corrected_items` (the items after corrections) before `items` (the same
rows, flagged `needs_review`).
"""

import dagster as dg
import pandas as pd

from assets.metadata import schema_check_spec, table_description, table_result
from assets.policy import EAGER
from assets.resources import CorrectionsFolder, ResultStore
from pipeline.model import DocumentResult
from pipeline.tables import rows as tables
from pipeline.tables.corrections import (
    FIELD_LABELS,
    REFUSED_STATUSES,
    ItemMemory,
    apply_corrections,
    folder_version,
    read_corrections,
)
from pipeline.tables.review import review_queue as rank_for_review

GROUP = "corrections"
# The sensor that observes the corrections starts the runs they need; automation follows the corpus.
EAGER_ON_CORPUS = EAGER.ignore(dg.AssetSelection.assets("corrections"))
APPLIED, REFUSED, UNREADABLE = "corrections appliquées", "corrections refusées", "fichiers illisibles"
# Where the items targeted by corrections are remembered, in the per-file cache folder.
MEMORY_FILE = "corrections-items.json"

corrections = dg.AssetSpec(
    "corrections", group_name=GROUP, kinds={"csv", "excel"},
    description=(
        "Le dossier des corrections des analystes (CSV ou XLSX, par défaut corrections/ à côté du dossier "
        "source) : catégorie, catégories, thème ou rôle corrigés, ou énoncé exclu. Observé par le capteur "
        "« nouvelles_corrections » : un fichier ajouté ou enregistré met les tables à jour dans la minute."
    ),
)


@dg.multi_asset(
    outs={
        "corrected_items": dg.AssetOut(
            group_name=GROUP, kinds={"pandas"}, automation_condition=EAGER_ON_CORPUS,
            description="Les énoncés après les corrections des analystes (énoncés exclus retirés), avant le "
                        "calcul de la file à vérifier."),
        "corrections_applied": dg.AssetOut(
            group_name=GROUP, kinds={"pandas"}, automation_condition=EAGER_ON_CORPUS,
            description=table_description("corrections_applied")),
    },
    deps=[corrections],
    check_specs=[schema_check_spec("corrections_applied")],
    ins={"corpus": dg.AssetIn("corpus")},
    can_subset=False,
)
def apply_analyst_corrections(context: dg.AssetExecutionContext, corpus: list[DocumentResult],
                              corrections_folder: CorrectionsFolder, result_store: ResultStore):
    folder = corrections_folder.root
    read = read_corrections(folder)
    memory = ItemMemory(result_store.cache.root / MEMORY_FILE)
    applied = apply_corrections(tables.items_table(corpus), read, memory.load())
    memory.save(applied.memory)
    for name, problem in read.problems.items():
        context.log.warning(f"{name} : {problem}")
    counts = {APPLIED: applied.n_applied, REFUSED: len(applied.refused), UNREADABLE: len(read.problems)}
    yield dg.MaterializeResult(asset_key="corrected_items", value=applied.items, metadata={
        "dagster/row_count": len(applied.items), **counts,
        "énoncés corrigés par un analyste": int((applied.items["category_source"] == "analyst").sum()),
    })
    yield table_result("corrections_applied", applied.log, data_version=dg.DataVersion(folder_version(folder)),
                       **counts, dossier=dg.MetadataValue.path(str(folder)))


@dg.asset(
    group_name=GROUP, kinds={"pandas"},
    ins={"corpus": dg.AssetIn("corpus"), "documents": dg.AssetIn("documents"),
         "corrected_items": dg.AssetIn("corrected_items"), "recurring": dg.AssetIn("recurring_statements")},
    check_specs=[schema_check_spec("review_queue")],
    description=table_description("review_queue"),
)
def review_queue(corpus: list[DocumentResult], documents: pd.DataFrame, corrected_items: pd.DataFrame,
                 recurring: pd.DataFrame):
    queue = rank_for_review(corrected_items, tables.review_signals(corpus), documents, recurring)
    return table_result("review_queue", queue)


@dg.asset_check(asset="corrections_applied",
                description="Avertit quand des corrections sont refusées (code inconnu, énoncé introuvable).")
def corrections_refusees(corrections_applied: pd.DataFrame) -> dg.AssetCheckResult:
    refused = corrections_applied[corrections_applied["status"].isin(REFUSED_STATUSES)]
    lines = [f"- `{row.correction_file}` ligne {row.row} ({FIELD_LABELS[row.field][1]}) : {row.message}"
             for row in refused.itertuples()]
    return dg.AssetCheckResult(
        passed=refused.empty, severity=dg.AssetCheckSeverity.WARN,
        metadata={REFUSED: len(refused), "détail": dg.MetadataValue.md("\n".join(lines) or "aucune")},
    )
