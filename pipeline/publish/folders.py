"""Publishing the outputs folder as one set: every file of a run appears
together, or none does.

Replacing files one by one cannot give that: a run killed, out of disk or
overtaken by another run between two renames leaves a mix. So `outputs`
is a symbolic link to one complete folder of versions kept beside it:

    outputs -> .outputs.versions/20261207T031502123456Z-1a2b3c4d/
    .outputs.versions/
        20261207T031502123456Z-1a2b3c4d/   the published set, manifest.json last
        20261206T021000654321Z-9f8e7d6c/   the previous set, kept for readers still in it
        lock                               who is publishing (see pipeline/publish/locks.py)

A publication writes every file into a new folder of `.outputs.versions/`
(nobody reads it yet), writes `manifest.json` last (run id, time, every
file with its SHA-256 and size), syncs it all to disk, then swaps the link
with a single rename(2): readers see the old set or the new one, never a
mix, whatever happens meanwhile. It holds one lock from the first file to
the swap; under that lock it removes whatever a killed publication left
(its unfinished folder, a link never renamed), so nothing temporary
survives the next publication.

The first publication into a folder that is still a real directory (from
before this layout) exchanges it with the link in one renameat2(2)
RENAME_EXCHANGE and keeps its old content as `.outputs.versions/legacy`.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.publish.locks import Holder, exclusive

MANIFEST = "manifest.json"
LOCK_FILE = "lock"
LEGACY = "legacy"
_LINK = ".link"
_AT_FDCWD, _RENAME_EXCHANGE = -100, 2


@dataclass(frozen=True)
class PublishedFile:
    path: str  # relative to the outputs folder, "/"-separated
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    """What one publication put in the outputs folder; consumers can check their files against it."""

    run_id: str
    published_at: str  # UTC, ISO 8601
    files: tuple[PublishedFile, ...]

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "files": [asdict(f) for f in self.files]}, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        data = json.loads(text)
        return cls(data["run_id"], data["published_at"], tuple(PublishedFile(**f) for f in data["files"]))


def versions_folder(outputs: Path) -> Path:
    return outputs.parent / f".{outputs.name}.versions"


def lock_file(outputs: Path) -> Path:
    return versions_folder(outputs) / LOCK_FILE


def publish(outputs: Path, run_id: str, write: Callable[[Path], None], wait_seconds: float,
            on_wait: Callable[[Holder | None], None]) -> Manifest:
    """Have `write` fill a new folder, then make it the outputs folder in one
    swap. If `write` fails (or the process is stopped), the previous set
    stays published and the new folder is removed."""
    versions = versions_folder(outputs)
    versions.mkdir(parents=True, exist_ok=True)
    with exclusive(versions / LOCK_FILE, Holder.this_process(run_id), wait_seconds, on_wait):
        _tidy(versions, _current(outputs))
        now = datetime.now(UTC)
        folder = versions / f"{now.strftime('%Y%m%dT%H%M%S%fZ')}-{run_id[:8]}"
        folder.mkdir()
        try:
            write(folder)
            manifest = Manifest(run_id, datetime.now(UTC).isoformat(timespec="seconds"), _describe(folder))
            (folder / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
            _sync(folder)
            _swap(outputs, folder)
        except BaseException:
            if _current(outputs) != folder.name:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        _tidy(versions, folder.name)
    return manifest


def verified_manifest(outputs: Path) -> Manifest | None:
    """The manifest of the outputs folder when the folder holds exactly its
    files with their recorded SHA-256, else None."""
    try:
        manifest = Manifest.from_json((outputs / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    present = {path.relative_to(outputs).as_posix() for path in outputs.rglob("*") if path.is_file()} - {MANIFEST}
    if present != {f.path for f in manifest.files}:
        return None
    if any(_sha256(outputs / f.path) != f.sha256 for f in manifest.files):
        return None
    return manifest


def _describe(folder: Path) -> tuple[PublishedFile, ...]:
    files = sorted(path for path in folder.rglob("*") if path.is_file())
    return tuple(PublishedFile(p.relative_to(folder).as_posix(), _sha256(p), p.stat().st_size) for p in files)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sync(folder: Path) -> None:
    """Every file and folder on disk before the swap makes them visible."""
    for path in [*folder.rglob("*"), folder]:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _current(outputs: Path) -> str | None:
    """The name of the version folder the outputs link points to, if it is a link."""
    return Path(os.readlink(outputs)).name if outputs.is_symlink() else None


def _swap(outputs: Path, folder: Path) -> None:
    versions = folder.parent
    link = versions / _LINK
    link.unlink(missing_ok=True)
    link.symlink_to(os.path.relpath(folder, outputs.parent))  # relative: the parent folder can move
    if outputs.is_symlink() or not outputs.exists():
        os.replace(link, outputs)
        return
    # A real directory from before this layout: exchanged with the link in one
    # step, then kept aside (it may hold files the pipeline never wrote).
    if _exchange(link, outputs):
        os.rename(link, versions / LEGACY)
    else:  # a file system without RENAME_EXCHANGE: two renames, once in the folder's life
        os.rename(outputs, versions / LEGACY)
        os.replace(link, outputs)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False when the file system cannot."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)  # glibc 2.28 and later
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _tidy(versions: Path, current: str | None) -> None:
    """Keep the published folder and the newest complete one published
    before it; remove the rest: older sets, and the unfinished folders and
    links of killed publications (a folder with a manifest but newer than
    the published one was never swapped in). Called under the lock, so
    nothing here is being written."""
    stray = versions / _LINK
    if stray.is_dir() and not stray.is_symlink() and not (versions / LEGACY).exists():
        stray.rename(versions / LEGACY)  # a migration stopped between its exchange and its rename
    older = sorted(p.name for p in versions.iterdir()
                   if current and p.name < current and p.is_dir() and not p.is_symlink()
                   and (p / MANIFEST).is_file() and p.name != LEGACY)
    keep = {LOCK_FILE, LEGACY, current, *older[-1:]}
    for path in versions.iterdir():
        if path.name in keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
