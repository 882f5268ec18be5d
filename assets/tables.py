"""The contract's per-document tables, built from the extraction results."""


from datetime import datetime, timezone

import dagster as dg
import pandas as pd

from assets.metadata import table_metadata
from assets.resources import OutputsFolder
from pipeline import tables
from pipeline.export import previous_ingestion_times
from pipeline.model import DocumentResult

OWNERS = ["team:donnees-egn"]
GROUP = "normalisation"


def _result(name: str, frame: pd.DataFrame) -> dg.MaterializeResult:
    return dg.MaterializeResult(value=frame, metadata=table_metadata(name, frame))


@dg.asset(
    group_name=GROUP, kinds={"pandas"}, owners=OWNERS,
    description=(
        "Une ligne par fichier reçu : statut (ok, partiel, rejeté) et raison, département, académie, "
        "date, lieu et format de la session, nombre d'énoncés, restitution en vigueur ou remplacée."
    ),
)
def documents(classified_restitutions: list[DocumentResult], outputs_folder: OutputsFolder) -> dg.MaterializeResult:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    frame = tables.documents_table(classified_restitutions, previous_ingestion_times(outputs_folder.root), now)
    return _result("documents", frame)


@dg.asset(
    group_name=GROUP, kinds={"pandas"}, owners=OWNERS,
    description=(
        "Un énoncé par ligne (irritant, point fort, besoin, levier, action, difficulté…), avec son "
        "thème normalisé, le libellé d'origine et sa provenance (page, tableau, ligne)."
    ),
)
def items(classified_restitutions: list[DocumentResult]) -> dg.MaterializeResult:
    return _result("items", tables.items_table(classified_restitutions))


@dg.asset(
    group_name=GROUP, kinds={"pandas"}, owners=OWNERS,
    description="Les neuf catégories de participants de chaque session : case cochée, nombre de participants, établissements représentés.",
)
def participants(classified_restitutions: list[DocumentResult]) -> dg.MaterializeResult:
    return _result("participants", tables.participants_table(classified_restitutions))


@dg.asset(
    group_name=GROUP, kinds={"pandas"}, owners=OWNERS,
    description="Une ligne par ligne de plan d'action : quoi, comment, acteurs (codes et texte), temporalité (code et texte), indicateurs.",
)
def actions(classified_restitutions: list[DocumentResult]) -> dg.MaterializeResult:
    return _result("actions", tables.actions_table(classified_restitutions))


@dg.asset(
    group_name=GROUP, kinds={"pandas"}, owners=OWNERS,
    description="Fichiers non intégrés (ou partiellement) et énoncés dont le thème n'a pas pu être reconnu, avec la raison.",
)
def quarantine(classified_restitutions: list[DocumentResult], documents: pd.DataFrame) -> dg.MaterializeResult:
    return _result("quarantine", tables.quarantine_table(classified_restitutions, documents))
