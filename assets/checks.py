"""Quality checks beyond each table's schema. The schema, the blocking check
that guards the contract (columns, codes, empty cells, unique values), runs
in the table's own step (see assets/metadata.py). These warnings tell
analysts what to look at without stopping anything."""

import dagster as dg
import pandas as pd

from assets import aggregates, tables
from assets.corrections import corrections_refusees
from assets.metadata import markdown_table
from pipeline.contract import KNOWN_THEME_CODES
from pipeline.labels import THEME_LABELS, label, status_label
from pipeline.tables.aggregate import counted


@dg.asset_check(asset=tables.items, additional_ins={"documents": dg.AssetIn("documents")},
                description="Avertit quand un département en vigueur ne compte aucun irritant.")
def departements_sans_irritant(items: pd.DataFrame, documents: pd.DataFrame) -> dg.AssetCheckResult:
    current = counted(documents, documents)
    with_irritant = set(counted(items, documents).query("role == 'irritant'")["dep"])
    missing = current[~current["dep"].isin(with_irritant)].sort_values("dep")
    names = [_departement(row) or f"`{row.source_file}`" for row in missing.itertuples()]
    return dg.AssetCheckResult(
        passed=missing.empty, severity=dg.AssetCheckSeverity.WARN,
        metadata={"départements sans irritant": dg.MetadataValue.text(", ".join(names) or "aucun")},
    )


@dg.asset_check(asset=aggregates.theme_summary, description="Avertit quand un thème n'apparaît dans aucune restitution.")
def themes_absents(theme_summary: pd.DataFrame) -> dg.AssetCheckResult:
    present = set(theme_summary["theme"])
    missing = [label(THEME_LABELS, code) for code in KNOWN_THEME_CODES if code not in present]
    return dg.AssetCheckResult(
        passed=not missing, severity=dg.AssetCheckSeverity.WARN,
        metadata={"thèmes absents": dg.MetadataValue.text(", ".join(missing) or "aucun")},
    )


@dg.asset_check(
    asset=tables.documents,
    description=(
        "Avertit dès qu'un fichier n'est pas intégré en entier (rejeté ou partiel) et les liste : statut et "
        "raison en français, message, et pour un fichier rejeté le département supposé d'après sa page de "
        "garde ou son nom."
    ),
)
def fichiers_en_quarantaine(documents: pd.DataFrame) -> dg.AssetCheckResult:
    """Each file's own result is on its partition (check `integration_du_fichier`);
    this one is the list an analyst works through, in one place."""
    held = documents[documents["status"] != "ok"]
    rejected = int((documents["status"] == "rejected").sum())
    rows = [[f"`{row.source_file}`", status_label(row.status, row.reason), _departement(row) or "—", row.message]
            for row in held.itertuples()]
    return dg.AssetCheckResult(
        passed=held.empty, severity=dg.AssetCheckSeverity.WARN,
        description=(f"{len(held)} fichier(s) sur {len(documents)} non intégré(s) en entier."
                     if len(held) else "Tous les fichiers sont intégrés."),
        metadata={
            "fichiers rejetés": rejected, "fichiers partiels": len(held) - rejected, "fichiers": len(documents),
            "fichiers non intégrés": dg.MetadataValue.md(
                markdown_table(["Fichier", "Statut", "Département", "Message"], rows) if rows else "aucun"),
        },
    )


def _departement(row) -> str | None:
    """The département read from a documents row, by name and code (a
    rejected file's message names the supposed one)."""
    code = row.departement_code
    return f"{row.departement} ({code})" if isinstance(code, str) and code else None


ALL_CHECKS = [departements_sans_irritant, themes_absents, fichiers_en_quarantaine, corrections_refusees]
