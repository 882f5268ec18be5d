"""Metadata analysts read in the UI: row count, schema, a preview."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from pipeline.contract import COLUMNS
from pipeline.export import format_value

PREVIEW_ROWS = 10


def table_metadata(name: str, frame: pd.DataFrame) -> dict:
    schema = dg.TableSchema(columns=[dg.TableColumn(name=column, type="string") for column in COLUMNS[name]])
    return {
        "dagster/row_count": dg.MetadataValue.int(len(frame)),
        "dagster/column_schema": dg.MetadataValue.table_schema(schema),
        "aperçu": dg.MetadataValue.md(markdown_preview(frame, COLUMNS[name])),
    }


def table_result(name: str, frame: pd.DataFrame) -> dg.MaterializeResult:
    """A table asset's value with the metadata analysts read in the UI."""
    return dg.MaterializeResult(value=frame, metadata=table_metadata(name, frame))


def markdown_preview(frame: pd.DataFrame, columns: list[str], rows: int = PREVIEW_ROWS) -> str:
    if frame.empty:
        return "_(aucune ligne)_"
    head = frame[columns].head(rows)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for values in head.itertuples(index=False, name=None):
        cells = [format_value(v).replace("|", "\\|").replace("\n", " ")[:60] for v in values]
        lines.append("| " + " | ".join(cells) + " |")
    if len(frame) > rows:
        lines.append(f"\n_… {len(frame) - rows} lignes de plus_")
    return "\n".join(lines)
