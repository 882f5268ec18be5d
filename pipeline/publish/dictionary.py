"""The data dictionary, generated from the schemas the checks enforce, with
how to read the files (which columns are text, pandas and DuckDB code).

`python -m pipeline.publish.dictionary` rewrites docs/dictionnaire-des-donnees.md;
a test fails when the committed file and the schemas disagree, so the
documentation cannot drift from what the pipeline guarantees.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.contract import LIST_SEPARATOR
from pipeline.labels import COLUMN_TYPE_LABELS, code_lists
from pipeline.publish.export import COLUMN_LABELS_TABLE, LABEL_SUFFIX, LABEL_TABLE_PREFIX, LABELLED_VIEW_SUFFIX, read_csv_sql
from pipeline.tables.column_labels import coded_columns
from pipeline.tables.schemas import (
    BOOLEAN_TYPE,
    COLUMN_TYPES,
    COLUMNS,
    DATE_TYPE,
    DECIMAL_TYPE,
    INTEGER_TYPE,
    SCHEMAS,
    TEXT_TYPE,
    TIMESTAMP_TYPE,
    column_types,
    rules,
)

TARGET = Path(__file__).resolve().parents[2] / "docs" / "dictionnaire-des-donnees.md"

# How pandas reads each type: nullable types, so that an empty cell stays unknown
# (dates and times stay text: `pd.to_datetime` converts them).
PANDAS_TYPES = {TEXT_TYPE: "string", INTEGER_TYPE: "Int64", DECIMAL_TYPE: "Float64", BOOLEAN_TYPE: "boolean",
                DATE_TYPE: "string", TIMESTAMP_TYPE: "string"}


def render() -> str:
    lines = [
        "# Dictionnaire des données",
        "",
        "Fichiers CSV de `outputs/` (contrat v1.1) : UTF-8 sans BOM, séparateur virgule, guillemets RFC 4180,",
        f"cellule vide pour « inconnu », listes jointes par `{LIST_SEPARATOR.strip()}`, dates ISO 8601,",
        "booléens `true`/`false`. Les agrégats ne comptent que la restitution en vigueur de chaque département.",
        "",
        "_Généré depuis `pipeline/tables/schemas.py` (`python -m pipeline.publish.dictionary`) : ne pas modifier à la main._",
        "",
        *_reading(),
    ]
    for name, schema in SCHEMAS.items():
        types = column_types(name)
        lines += [f"## `{name}.csv` — {schema.title}", "",
                  "| colonne | lire comme | obligatoire | règles | description |", "|---|---|---|---|---|"]
        for column, spec in schema.columns.items():
            required = "non" if spec.nullable else "oui"
            kind = COLUMN_TYPE_LABELS[types[column]]
            rules_text = _cell("; ".join([*rules(spec), *(["unique"] if spec.unique else [])]))
            lines.append(f"| `{column}` | {kind} | {required} | {rules_text} | {_cell(spec.description or '')} |")
        lines.append("")
    return "\n".join(lines)


def _reading() -> list[str]:
    """How to read the files: which columns are text, and the pandas and DuckDB code that says so."""
    typed = {column: PANDAS_TYPES[kind] for column, kind in sorted(COLUMN_TYPES.items())
             if PANDAS_TYPES[kind] != PANDAS_TYPES[TEXT_TYPE]}
    dates = [column for column, kind in COLUMN_TYPES.items() if kind == DATE_TYPE]
    times = [column for column, kind in COLUMN_TYPES.items() if kind == TIMESTAMP_TYPE]
    coded = [name for name in COLUMNS if coded_columns(name)]
    return [
        "## Lire les fichiers",
        "",
        "Dans Excel, ouvrez plutôt `outputs/synthese.xlsx` : mêmes tables, en-têtes et libellés en français,",
        "vraies dates. Un double-clic sur un CSV dans un Excel en français l'ouvre avec le point-virgule comme",
        "séparateur et l'encodage Windows-1252 : colonnes mélangées, accents abîmés, « 01 » devenu 1.",
        "",
        "Dans un programme, lisez comme du texte toutes les colonnes dont la colonne « lire comme » ci-dessous",
        "dit « texte » : codes et identifiants compris. Laissé à la détection automatique des types, le code",
        "département « 01 » devient 1 dans un fichier sans la Corse, « 2A » peut faire échouer la lecture, un",
        "`document_id` fait de chiffres perd ses zéros. Seule une cellule vide veut dire « inconnu » : un",
        "énoncé « NA » ou « null » est du texte.",
        "",
        "pandas (une seule table `TYPES` pour tous les fichiers ; une colonne qui n'y figure pas est du texte) :",
        "",
        "```python",
        "from collections import defaultdict",
        "",
        "import pandas as pd",
        "",
        "TYPES = defaultdict(lambda: \"string\", {",
        *(f'    "{column}": "{dtype}",' for column, dtype in typed.items()),
        "})",
        "",
        "",
        "def lire(table: str) -> pd.DataFrame:",
        "    return pd.read_csv(f\"outputs/{table}.csv\", dtype=TYPES, keep_default_na=False, na_values=[\"\"])",
        "",
        "",
        "documents = lire(\"documents\")",
        *(f'documents["{column}"] = pd.to_datetime(documents["{column}"])' for column in dates
          if column in COLUMNS["documents"]),
        *(f'documents["{column}"] = pd.to_datetime(documents["{column}"], utc=True)' for column in times
          if column in COLUMNS["documents"]),
        "items = lire(\"items\")",
        "```",
        "",
        "DuckDB (chaque table avec les types de la colonne « lire comme ») :",
        "",
        "```sql",
        *(f"CREATE TABLE {name} AS {read_csv_sql(name, _sql_path(name))};" for name in COLUMNS),
        "```",
        "",
        "`outputs/egn.duckdb` contient déjà ces tables ainsi lues, et les libellés en français : une table",
        "`libelles_<liste>(code, libelle, description)` par liste de codes ("
        + ", ".join(f"`{LABEL_TABLE_PREFIX}{name}`" for name in code_lists()) + "),",
        f"la table `{COLUMN_LABELS_TABLE}` (nom français, type et description de chaque colonne) et, pour chaque",
        f"table qui contient des codes, une vue `<table>{LABELLED_VIEW_SUFFIX}` qui ajoute à chaque colonne de codes",
        f"sa colonne `<colonne>{LABEL_SUFFIX}` ("
        + ", ".join(f"`{name}{LABELLED_VIEW_SUFFIX}`" for name in coded) + ").",
        "",
    ]


def _sql_path(table: str) -> str:
    return f"'outputs/{table}.csv'"


def _cell(text: str) -> str:
    """Text in a Markdown table cell, where a "|" would end the cell."""
    return text.replace("|", "\\|")


def main() -> None:
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(render(), encoding="utf-8")
    print(f"écrit : {TARGET}", file=sys.stderr)


if __name__ == "__main__":
    main()
