"""The data dictionary, generated from the schemas the checks enforce.

`python -m pipeline.dictionary` rewrites docs/dictionnaire-des-donnees.md;
a test fails when the committed file and the schemas disagree, so the
documentation cannot drift from what the pipeline guarantees.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.contract import COLUMNS, LIST_SEPARATOR
from pipeline.schemas import SCHEMAS

TARGET = Path(__file__).resolve().parent.parent / "docs" / "dictionnaire-des-donnees.md"

FILE_DESCRIPTIONS = {
    "documents": "une ligne par fichier reçu",
    "participants": "les neuf catégories de participants de chaque document",
    "items": "un énoncé par ligne",
    "actions": "une ligne par ligne de plan d'action",
    "quarantine": "fichiers non intégrés et énoncés de thème inconnu",
    "theme_summary": "énoncés et départements par thème et rôle",
    "category_summary": "énoncés et départements par thème, rôle et catégorie",
    "department_theme_matrix": "département × thème",
    "actors_summary": "acteurs des plans d'action",
    "participants_summary": "participants par catégorie",
    "review_queue": "énoncés à vérifier d'abord : les plus utiles à corriger en tête",
    "corrections_applied": "chaque correction lue dans le dossier des corrections, avec son statut",
    "recurring_statements": "constats récurrents : le même énoncé, en d'autres mots, dans plusieurs départements",
}


def render() -> str:
    lines = [
        "# Dictionnaire des données",
        "",
        "Fichiers CSV de `outputs/` (contrat v1.1) : UTF-8 sans BOM, séparateur virgule, guillemets RFC 4180,",
        f"cellule vide pour « inconnu », listes jointes par `{LIST_SEPARATOR.strip()}`, dates ISO 8601,",
        "booléens `true`/`false`. Les agrégats ne comptent que la restitution en vigueur de chaque département.",
        "",
        "_Généré depuis `pipeline/schemas.py` (`python -m pipeline.dictionary`) : ne pas modifier à la main._",
        "",
    ]
    for name, columns in COLUMNS.items():
        schema = SCHEMAS[name]
        lines += [f"## `{name}.csv` — {FILE_DESCRIPTIONS[name]}", "", "| colonne | obligatoire | règles | description |",
                  "|---|---|---|---|"]
        for column in columns:
            spec = schema.columns[column]
            rules = "; ".join(_rule(check) for check in spec.checks) or ""
            if spec.unique:
                rules = "; ".join(filter(None, [rules, "unique"]))
            required = "non" if spec.nullable else "oui"
            lines.append(f"| `{column}` | {required} | {rules} | {spec.description or ''} |")
        lines.append("")
    return "\n".join(lines)


def _rule(check) -> str:
    allowed = check.statistics.get("allowed_values") if check.statistics else None
    if allowed is not None:
        return "parmi " + ", ".join(f"`{value}`" for value in allowed)
    if check.statistics and "min_value" in check.statistics and check.name == "greater_than_or_equal_to":
        return f"entier ≥ {check.statistics['min_value']}"
    if check.name == "in_range":
        return f"entre {check.statistics['min_value']} et {check.statistics['max_value']}"
    return str(check.error or check.name).replace("|", "/")


def main() -> None:
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(render(), encoding="utf-8")
    print(f"écrit : {TARGET}", file=sys.stderr)


if __name__ == "__main__":
    main()
