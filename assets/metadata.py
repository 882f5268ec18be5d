"""What a table asset reports in the UI: its description, row count, column
schema (types, descriptions and rules of the table's model, as in the data
dictionary), a preview, and its contract check.

The pandera check of each table runs inside the table's own step (an
`AssetCheckSpec` of the asset, blocking): the same guarantee as a separate
check, one step fewer per table in every run. (Those assets' functions
carry no return annotation: with check specs, Dagster would read it as the
type of several outputs.)
"""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pandera.errors

from pipeline.labels import COLUMN_TYPE_LABELS
from pipeline.publish.export import format_value
from pipeline.tables.schemas import COLUMNS, SCHEMAS, column_types, rules

SCHEMA_CHECK = "schema_du_contrat"

PREVIEW_ROWS = 10
PREVIEW_CELL_CHARS = 60


def table_description(name: str) -> str | None:
    """A table asset's description: its model's (pipeline/tables/schemas.py)."""
    return SCHEMAS[name].description


def column_schema(name: str) -> dg.TableSchema:
    """A table's columns as its model defines them, each typed as a consumer
    reads it (the data dictionary's « lire comme »)."""
    types = column_types(name)
    return dg.TableSchema(columns=[
        dg.TableColumn(name=column, type=COLUMN_TYPE_LABELS[types[column]], description=spec.description,
                       constraints=dg.TableColumnConstraints(nullable=spec.nullable, unique=spec.unique,
                                                             other=rules(spec)))
        for column, spec in SCHEMAS[name].columns.items()
    ])


def table_metadata(name: str, frame: pd.DataFrame) -> dict:
    return {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "dagster/column_schema": dg.MetadataValue.table_schema(column_schema(name)),
        "aperçu": dg.MetadataValue.md(markdown_preview(frame, COLUMNS[name])),
    }


def schema_check_spec(name: str) -> dg.AssetCheckSpec:
    """The blocking contract check of a table: if it fails, nothing downstream
    runs, so the files in outputs/ are not rewritten."""
    return dg.AssetCheckSpec(SCHEMA_CHECK, asset=name, blocking=True,
                             description=f"Colonnes et codes de {name}.csv conformes au contrat (pandera).")


def schema_check_result(name: str, frame: pd.DataFrame) -> dg.AssetCheckResult:
    try:
        SCHEMAS[name].validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases.head(20)
        return dg.AssetCheckResult(asset_key=name, check_name=SCHEMA_CHECK, passed=False, metadata={
            "erreurs": len(errors.failure_cases),
            "exemples": dg.MetadataValue.md(cases.to_markdown(index=False)),
        })
    return dg.AssetCheckResult(asset_key=name, check_name=SCHEMA_CHECK, passed=True, metadata={"lignes": len(frame)})


def table_result(name: str, frame: pd.DataFrame, data_version: dg.DataVersion | None = None,
                 **metadata) -> dg.MaterializeResult:
    """A table asset's value, the metadata analysts read in the UI, and its contract check."""
    return dg.MaterializeResult(asset_key=name, value=frame, metadata={**table_metadata(name, frame), **metadata},
                                check_results=[schema_check_result(name, frame)], data_version=data_version)


def markdown_preview(frame: pd.DataFrame, columns: list[str], rows: int = PREVIEW_ROWS) -> str:
    if frame.empty:
        return "_(aucune ligne)_"
    head = frame[columns].head(rows)
    cells = [[format_value(v)[:PREVIEW_CELL_CHARS] for v in values] for values in head.itertuples(index=False, name=None)]
    lines = [markdown_table(columns, cells)]
    if len(frame) > rows:
        lines.append(f"\n_… {len(frame) - rows} lignes de plus_")
    return "\n".join(lines)


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table for the UI's metadata; a cell's "|" and line breaks
    would otherwise break its row."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(text) for text in row) + " |" for row in rows]
    return "\n".join(lines)
