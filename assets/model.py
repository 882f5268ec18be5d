"""Retraining the classifier from the UI, on demand only.

`modele_candidat` trains a new version on the project's statements plus
the analysts' corrections, and compares it with the version in service on
the frozen blind set (side by side in its metadata). Its blocking check
`sans_regression` fails when the candidate is less accurate there, and
then `modele_en_service`, which promotes it, does not run. Neither asset
has an automation condition and the jobs of the nightly schedule and the
sensor leave them out: a model changes only when an analyst asks.
"""

from pathlib import Path

import dagster as dg
import pandas as pd

from assets.resources import ClassifierResource
from pipeline.classify.taxonomy import load_taxonomy
from pipeline.classify.versions import ModelVersion

GROUP = "modele"
NO_REGRESSION = "sans_regression"
SUMMARY = ("strict", "lenient", "macro_f1", "set_f1")
FIGURE_LABELS = {"strict": "exactitude stricte", "lenient": "exactitude souple", "macro_f1": "F1 macro",
                 "set_f1": "F1 des ensembles"}


class RetrainingConfig(dg.Config):
    """A spaCy training config other than the shipped one (tests use a small one)."""

    training_config: str | None = None


@dg.asset(
    group_name=GROUP, kinds={"spacy"},
    check_specs=[dg.AssetCheckSpec(
        NO_REGRESSION, asset="modele_candidat", blocking=True,
        description="Le nouveau modèle n'est pas moins exact que le modèle en service sur le jeu de test aveugle.",
    )],
    description=(
        "Entraîne, à la demande, une nouvelle version du modèle de classement sur les énoncés du projet et "
        "les corrections des analystes, puis la compare au modèle en service sur le jeu de test aveugle "
        "(figé, jamais appris). Jamais lancé par la planification nocturne. Le modèle livré n'est jamais "
        "écrasé : chaque version a son dossier."
    ),
)
def modele_candidat(context: dg.AssetExecutionContext, config: RetrainingConfig, items: pd.DataFrame,
                    classifier: ClassifierResource):
    from pipeline.classify.retrain import compare_on_blind, corrected_records, retrain
    from pipeline.classify.train import CONFIG

    store = classifier.store
    current = store.active()
    corrections = corrected_records(items)
    version = retrain(store, corrections, Path(config.training_config) if config.training_config else CONFIG)
    comparison = compare_on_blind(current.path, version.path)
    table = _side_by_side(comparison.current, comparison.candidate)
    verdict = ("ni moins exact" if comparison.no_worse else "moins exact") + " que le modèle en service"
    return dg.MaterializeResult(
        value=version.name,
        metadata={
            "version": version.name,
            "modèle en service": current.name,
            "corrections apprises": len(corrections),
            "jeu aveugle : exactitude stricte (candidat)": comparison.candidate["strict"],
            "jeu aveugle : exactitude stricte (en service)": comparison.current["strict"],
            "comparaison sur le jeu aveugle": dg.MetadataValue.md(table),
        },
        check_results=[dg.AssetCheckResult(
            check_name=NO_REGRESSION, passed=comparison.no_worse,
            severity=dg.AssetCheckSeverity.ERROR,
            description=f"Le candidat {version.name} est {verdict} sur le jeu aveugle.",
            metadata={"écart d'exactitude stricte": round(comparison.candidate["strict"] - comparison.current["strict"], 3)},
        )],
    )


@dg.asset(
    group_name=GROUP, kinds={"spacy"},
    description=(
        "Met en service le modèle candidat (s'il a passé le contrôle sans_regression) : les exécutions "
        "suivantes classent avec lui, à partir du cache, sans relire les fichiers. Pour revenir à la "
        "version précédente : egn modele --revenir."
    ),
)
def modele_en_service(modele_candidat: str, classifier: ClassifierResource) -> dg.MaterializeResult:
    store = classifier.store
    store.promote(ModelVersion(modele_candidat, store.root / "versions" / modele_candidat))
    return dg.MaterializeResult(metadata={"version en service": modele_candidat})


def _side_by_side(current: dict, candidate: dict) -> str:
    lines = ["| mesure | en service | candidat |", "|---|---|---|"]
    lines += [f"| {FIGURE_LABELS[key]} | {current[key]:.3f} | {candidate[key]:.3f} |" for key in SUMMARY]
    labels = {category.code: category.label for category in load_taxonomy()}
    for code in labels:
        before, after = current["per_category"].get(code, {}), candidate["per_category"].get(code, {})
        lines.append(
            f"| {labels[code]} : précision / rappel | {before.get('precision', 0):.2f} / {before.get('recall', 0):.2f} "
            f"| {after.get('precision', 0):.2f} / {after.get('recall', 0):.2f} |"
        )
    return "\n".join(lines)
