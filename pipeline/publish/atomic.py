"""Atomic replacement of a file in place (the per-file cache, the model
in service, the corrections' memory): a temporary file beside the target,
synced, renamed over it.

A module of its own, light to import: the command line and the cache use it
before, or without, loading the tables and their schemas.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


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
