"""Quality checks beyond each table's schema. The schema, the blocking check
that guards the contract (columns, codes, empty cells, unique values), runs
in the table's own step (see assets/metadata.py). These warnings tell
analysts what to look at without stopping anything."""

import dagster as dg
import pandas as pd

from assets import aggregates, tables
from assets.corrections import corrections_refusees
from pipeline.aggregate import counted
from pipeline.contract import KNOWN_THEME_CODES

QUARANTINE_WARNING_SHARE = 0.2


@dg.asset_check(asset=tables.items, additional_ins={"documents": dg.AssetIn("documents")},
                description="Avertit quand un département en vigueur ne compte aucun irritant.")
def departements_sans_irritant(items: pd.DataFrame, documents: pd.DataFrame) -> dg.AssetCheckResult:
    current = counted(documents, documents)
    with_irritant = set(counted(items, documents).query("role == 'irritant'")["dep"])
    missing = sorted(set(current["dep"]) - with_irritant)
    return dg.AssetCheckResult(
        passed=not missing, severity=dg.AssetCheckSeverity.WARN,
        metadata={"départements sans irritant": dg.MetadataValue.text(", ".join(missing) or "aucun")},
    )


@dg.asset_check(asset=aggregates.theme_summary, description="Avertit quand un thème n'apparaît dans aucune restitution.")
def themes_absents(theme_summary: pd.DataFrame) -> dg.AssetCheckResult:
    missing = sorted(set(KNOWN_THEME_CODES) - set(theme_summary["theme"]))
    return dg.AssetCheckResult(
        passed=not missing, severity=dg.AssetCheckSeverity.WARN,
        metadata={"thèmes absents": dg.MetadataValue.text(", ".join(missing) or "aucun")},
    )


@dg.asset_check(asset=tables.documents,
                description=f"Avertit quand plus de {QUARANTINE_WARNING_SHARE:.0%} des fichiers ne sont pas intégrés.")
def part_de_fichiers_en_quarantaine(documents: pd.DataFrame) -> dg.AssetCheckResult:
    share = float((documents["status"] == "rejected").mean()) if len(documents) else 0.0
    return dg.AssetCheckResult(
        passed=share <= QUARANTINE_WARNING_SHARE, severity=dg.AssetCheckSeverity.WARN,
        metadata={"part rejetée": dg.MetadataValue.float(round(share, 3)), "fichiers": len(documents)},
    )


ALL_CHECKS = [departements_sans_irritant, themes_absents, part_de_fichiers_en_quarantaine, corrections_refusees]
