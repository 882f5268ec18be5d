"""Quality checks beyond each table's schema (which runs in the table's own
step, see assets/metadata.py). The blocking ones guard the contract: if one
fails, the files in outputs/ are not rewritten. The warnings tell analysts
what to look at without stopping anything."""

import dagster as dg
import pandas as pd

from assets import aggregates, tables
from assets.corrections import corrections_refusees
from pipeline.aggregate import counted
from pipeline.contract import THEME_CODES
from pipeline.normalize.themes import THEMES

QUARANTINE_WARNING_SHARE = 0.2


@dg.asset_check(asset=tables.items, blocking=True, description="Chaque énoncé porte un code de thème du contrat.")
def themes_des_enonces(items: pd.DataFrame) -> dg.AssetCheckResult:
    bad = items[~items["theme"].isin(THEME_CODES)]
    return dg.AssetCheckResult(passed=bad.empty, metadata={"énoncés sans thème valide": len(bad)})


@dg.asset_check(asset=tables.items, blocking=True, description="Aucun identifiant d'énoncé (item_id) en double.")
def identifiants_uniques(items: pd.DataFrame) -> dg.AssetCheckResult:
    duplicated = items["item_id"].duplicated(keep=False)
    return dg.AssetCheckResult(passed=not duplicated.any(), metadata={"doublons": int(duplicated.sum())})


@dg.asset_check(asset=tables.participants, blocking=True,
                description="Chaque nombre de participants est un entier positif ou vide.")
def nombres_de_participants(participants: pd.DataFrame) -> dg.AssetCheckResult:
    def valid(value) -> bool:
        return value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0)

    bad = participants[~participants["count"].map(valid) | ~participants["n_etablissements"].map(valid)]
    return dg.AssetCheckResult(passed=bad.empty, metadata={"valeurs invalides": len(bad)})


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
    missing = sorted(set(THEMES) - set(theme_summary["theme"]))
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


ALL_CHECKS = [themes_des_enonces, identifiants_uniques, nombres_de_participants,
              departements_sans_irritant, themes_absents, part_de_fichiers_en_quarantaine, corrections_refusees]
