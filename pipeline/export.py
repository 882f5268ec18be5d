"""The contract's CSV files and their DuckDB copy, and atomic file writes.

The outputs are written into a folder nobody reads yet, then published as
one set (`pipeline.publish`): these writers need not guard against readers.
`write_atomic_bytes` is for files that are replaced in place (the per-file
cache): a temporary file beside the target, synced, renamed over it.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pandas as pd

from pipeline.contract import COLUMNS, LIST_SEPARATOR


def format_value(value) -> str:
    """A Python value as the contract spells it in a CSV cell."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return LIST_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, float):
        if value != value:  # NaN from pandas means unknown
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.4f}".rstrip("0")
    return str(value)


def to_csv_text(frame: pd.DataFrame, columns: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(columns)
    for row in frame[columns].itertuples(index=False, name=None):
        writer.writerow([format_value(v) for v in row])
    return buffer.getvalue()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, sync it, rename it over `path`
    (removed if anything fails): readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide the file from other readers
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_tables(folder: Path, tables: dict[str, pd.DataFrame]) -> dict[str, Path]:
    """Write every contract table present in `tables` as <folder>/<name>.csv."""
    written = {}
    for name, frame in tables.items():
        path = folder / f"{name}.csv"
        path.write_text(to_csv_text(frame, COLUMNS[name]), encoding="utf-8", newline="")
        written[name] = path
    return written


def write_duckdb(path: Path, csv_files: dict[str, Path]) -> None:
    """A DuckDB database holding the same tables as the CSV files.

    Its content is reproducible (same tables, rows and types for the same
    CSV files), not its bytes: DuckDB's file layout is its own business.
    """
    import duckdb  # imported here: only the export needs it

    try:
        with duckdb.connect(str(path)) as con:
            for name, csv_path in csv_files.items():
                con.execute(
                    f'CREATE TABLE "{name}" AS SELECT * FROM read_csv(?, header = true, auto_detect = true)',
                    [str(csv_path)],
                )
    finally:
        path.with_name(path.name + ".wal").unlink(missing_ok=True)
