"""Write the contract's CSV files, atomically.

Each file is written to a temporary file in the same folder, flushed to
disk, then renamed over the old one: a reader, or a run killed half-way,
sees the previous complete file or the new complete file, never a torn one.

Temporary files left by a killed run are removed before the next write, and
that cleanup must not take another live run's temporary file for a leftover:
writers hold a shared lock on the folder while their temporary file exists,
the cleanup an exclusive one. The kernel drops the lock of a killed process.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def locked(folder: Path, operation: int) -> Iterator[None]:
    """Hold flock(2) `operation` on the folder itself (no lock file to leave behind)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, operation)
        yield
    finally:
        os.close(fd)


@contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`, renamed over `path` when the block
    succeeds and removed when it fails; the folder is share-locked meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(path.parent, fcntl.LOCK_SH):
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
        try:
            yield tmp
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide outputs from other readers
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def write_atomic_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, sync it, rename it over `path`."""
    with replaced_atomically(path) as tmp, tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def write_atomic(path: Path, text: str) -> None:
    write_atomic_bytes(path, text.encode("utf-8"))


def remove_stale_temporaries(folder: Path) -> None:
    """Temporary files left by a run killed while writing (never renamed)."""
    with locked(folder, fcntl.LOCK_EX):
        for leftover in folder.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)


def write_tables(outputs: Path, tables: dict[str, pd.DataFrame]) -> dict[str, Path]:
    """Write every contract table present in `tables` as outputs/<name>.csv."""
    if outputs.exists():
        remove_stale_temporaries(outputs)
    written = {}
    for name, frame in tables.items():
        path = outputs / f"{name}.csv"
        write_atomic(path, to_csv_text(frame, COLUMNS[name]))
        written[name] = path
    return written


def write_duckdb(path: Path, csv_files: dict[str, Path]) -> None:
    """A DuckDB database holding the same tables as the CSV files.

    Built in a temporary file and renamed, like the CSV files: DuckDB
    readers never see a half-built database.
    """
    import duckdb  # imported here: only the export needs it

    with replaced_atomically(path) as tmp:
        tmp.unlink()  # DuckDB creates the file itself
        try:
            with duckdb.connect(str(tmp)) as con:
                for name, csv_path in csv_files.items():
                    con.execute(
                        f'CREATE TABLE "{name}" AS SELECT * FROM read_csv(?, header = true, auto_detect = true)',
                        [str(csv_path)],
                    )
        finally:
            tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
