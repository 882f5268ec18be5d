"""The national synthesis: recurring statements, the HTML report and the
Excel workbook analysts read. The report and the workbook are rendered
here and published with every other output, as one set, by `publication`."""

import os

import dagster as dg
import pandas as pd

from assets.metadata import schema_check_spec, table_description, table_result
from assets.resources import OutputsFolder, RawFolder
from pipeline.labels import ROLE_PLURALS, THEME_SHORT_LABELS, label
from pipeline.publish.report import render_report
from pipeline.publish.workbook import workbook_bytes
from pipeline.tables.recurring import recurring_statements as group_recurring

TABLES = ["documents", "participants", "items", "actions", "quarantine", "theme_summary", "category_summary",
          "department_theme_matrix", "actors_summary", "participants_summary", "review_queue",
          "corrections_applied"]


@dg.asset(
    group_name="agregats", kinds={"pandas"},
    check_specs=[schema_check_spec("recurring_statements")],
    description=table_description("recurring_statements"),
)
def recurring_statements(documents: pd.DataFrame, corrected_items: pd.DataFrame):
    # The corrected items: the same rows as `items`, which needs this table for its review flags.
    frame = group_recurring(corrected_items, documents)
    return table_result("recurring_statements", frame,
                        **{"constats les plus partagés": dg.MetadataValue.md(_top_findings(frame))})


def _ins() -> dict:
    """The tables, and the recurring statements as `recurring`."""
    return {**{name: dg.AssetIn(name) for name in TABLES}, "recurring": dg.AssetIn("recurring_statements")}


REPORT_FILE = "report/index.html"
WORKBOOK_FILE = "synthese.xlsx"


@dg.asset(
    group_name="rapports", kinds={"html"}, ins=_ins(),
    description=(
        "Rapport national en français (outputs/report/index.html), autonome : chiffres clés, constats "
        "récurrents avec leurs sources, catégories par thème, carte département × thème, participants, "
        "acteurs, temporalités et qualité des données."
    ),
)
def synthesis_report(outputs_folder: OutputsFolder, raw_folder: RawFolder, recurring: pd.DataFrame,
                     **tables: pd.DataFrame) -> dg.Output[str]:
    # Links to the source files are relative to where the page is read: outputs/report/.
    folder = (outputs_folder.root / REPORT_FILE).parent
    prefix = os.path.relpath(raw_folder.root, folder).replace(os.sep, "/") + "/"
    page = render_report(dict(tables), recurring, prefix)
    return dg.Output(page, metadata={
        "taille (Ko)": round(len(page.encode()) / 1024),
        "constats les plus partagés": dg.MetadataValue.md(_top_findings(recurring)),
    })


@dg.asset(
    group_name="rapports", kinds={"excel"}, ins=_ins(),
    description=(
        "Classeur Excel (outputs/synthese.xlsx) : une feuille de synthèse puis une feuille par table, "
        "en-têtes figés et filtres ; aucune cellule n'est interprétée comme une formule. Les mêmes "
        "tables donnent exactement le même fichier."
    ),
)
def synthesis_workbook(recurring: pd.DataFrame, **tables: pd.DataFrame) -> dg.Output[bytes]:
    data = workbook_bytes(dict(tables), recurring)
    return dg.Output(data, metadata={"taille (Ko)": round(len(data) / 1024)})


def _top_findings(recurring: pd.DataFrame, n: int = 5) -> str:
    if recurring.empty:
        return "_(aucun constat partagé par plusieurs départements)_"
    lines = []
    for row in recurring.head(n).itertuples():
        text = str(row.representative).replace("|", "/")
        lines.append(f"- **{row.n_departements} départements** ({label(THEME_SHORT_LABELS, row.theme)}, "
                     f"{label(ROLE_PLURALS, row.role).lower()}) : « {text} »")
    return "\n".join(lines)
