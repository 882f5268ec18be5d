"""The contract's per-document tables, over the files currently in the raw folder."""

from datetime import UTC, datetime

import dagster as dg
import pandas as pd

from assets.documents import document
from assets.metadata import schema_check_spec, table_description, table_result
from assets.partitions import FILES
from assets.publication import current_version
from assets.resources import RawFolder, ResultStore
from pipeline.batch import CLASSIFICATION
from pipeline.model import DocumentResult
from pipeline.tables import rows as tables
from pipeline.tables.review import flag_for_review

GROUP = "normalisation"


@dg.asset(
    deps=[document], group_name=GROUP, kinds={"python"},
    description=(
        "L'ensemble des restitutions actuellement présentes dans le dossier source, lues et classées : "
        "le point de départ de toutes les tables du contrat. Un fichier supprimé du dossier en sort."
    ),
)
def corpus(context: dg.AssetExecutionContext, result_store: ResultStore, raw_folder: RawFolder) -> dg.MaterializeResult:
    cache = result_store.cache
    results: list[DocumentResult] = []
    unprocessed: list[str] = []
    contents: dict[str, str] = {}
    for key in context.instance.get_dynamic_partitions(FILES.name):
        entry = cache.recorded(key)
        result = entry and cache.get(CLASSIFICATION, entry["sha256"])
        if not result:
            unprocessed.append(key)
            continue
        result.source_file = entry["source_file"]
        results.append(result)
        contents[key] = entry["sha256"]
    if unprocessed:
        context.log.warning(f"{len(unprocessed)} fichier(s) pas encore traité(s) : {', '.join(unprocessed[:10])}")
    return dg.MaterializeResult(
        value=tables.set_aside_duplicates(results),
        data_version=dg.DataVersion(current_version(contents, raw_folder.root, cache.model)),
        metadata={"documents": len(results), "pas encore traités": len(unprocessed)},
    )


@dg.asset(
    check_specs=[schema_check_spec("documents")],
    group_name=GROUP, kinds={"pandas"},
    description=table_description("documents"),
)
def documents(corpus: list[DocumentResult], result_store: ResultStore):
    # First-seen times live with the cache, by content: never read back from
    # published files, which anyone may move or delete.
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cache = result_store.cache
    ingested = {result.identity: cache.first_seen(result.identity, now) for result in corpus}
    return table_result("documents", tables.documents_table(corpus, ingested))


@dg.asset(
    check_specs=[schema_check_spec("items")],
    group_name=GROUP, kinds={"pandas"},
    description=table_description("items"),
)
def items(corrected_items: pd.DataFrame, review_queue: pd.DataFrame):
    return table_result("items", flag_for_review(corrected_items, review_queue))


@dg.asset(
    check_specs=[schema_check_spec("participants")],
    group_name=GROUP, kinds={"pandas"},
    description=table_description("participants"),
)
def participants(corpus: list[DocumentResult]):
    return table_result("participants", tables.participants_table(corpus))


@dg.asset(
    check_specs=[schema_check_spec("actions")],
    group_name=GROUP, kinds={"pandas"},
    description=table_description("actions"),
)
def actions(corpus: list[DocumentResult]):
    return table_result("actions", tables.actions_table(corpus))


@dg.asset(
    check_specs=[schema_check_spec("quarantine")],
    group_name=GROUP, kinds={"pandas"},
    description=table_description("quarantine"),
)
def quarantine(corpus: list[DocumentResult], documents: pd.DataFrame):
    return table_result("quarantine", tables.quarantine_table(corpus, documents))
