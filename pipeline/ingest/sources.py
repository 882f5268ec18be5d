"""The raw folder's files: which ones are listed, what they are called,
what identifies them, and how their bytes are read.

Three things an attacker or an unlucky operator can do to a folder, and
what this module makes of them:

- A name is any sequence of bytes but "/" and NUL: control characters,
  "...", bytes that are not UTF-8. Each name gets a partition key that is
  unique and reversible (`partition_key`, `relative_path_of`); a name that
  is not text cannot be published, so its file is refused (`refusal`).
- A symbolic link can point anywhere: one whose target lies outside the
  folder is listed (it is refused, never opened), not followed.
- A file can move or change while a run reads it: its bytes are read
  once, and the SHA-256 that identifies its results is taken from those
  very bytes (`read_source`). A file that vanishes or changes during the
  read has no outcome in this run (`SourceChanged`), so nothing wrong is
  cached.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.ingest.errors import RejectedFile, SourceChanged
from pipeline.ingest.intake import MAX_FILE_BYTES

# Office lock files ("~$rapport.docx") and hidden files are not documents.
IGNORED_PREFIXES = ("~$", ".")
IGNORED_NAMES = ("README.md",)
_CHUNK = 1 << 20
# Characters a partition key cannot hold (Dagster refuses control characters
# and "..."; storage needs text), and "%", which escapes them.
_ESCAPED = re.compile(r"%|[\x00-\x1f\x7f]|[\udc80-\udcff]|\.(?=\.\.)")
_ESCAPE = re.compile(r"%([0-9A-F]{2})")


@dataclass(frozen=True)
class Content:
    """A file's bytes as read once, and their SHA-256. `data` is empty when
    the file is larger than intake accepts: it was hashed, never loaded."""

    sha256: str
    size: int
    data: bytes


def partition_key(relative_path: str) -> str:
    """A key Dagster accepts for any path the file system allows: "%",
    control characters, bytes that are not UTF-8 (surrogate-escaped by
    Python) and the dots of "..." are written %XX. Unique and reversible."""
    return _ESCAPED.sub(lambda match: f"%{_byte_of(match.group())}", relative_path)


def relative_path_of(key: str) -> str:
    """The path a partition key was made from (partition_key's inverse)."""
    return _ESCAPE.sub(lambda match: _char_of(int(match.group(1), 16)), key)


def _byte_of(char: str) -> str:
    code = ord(char)
    return f"{code - 0xDC00 if code >= 0xDC80 else code:02X}"


def _char_of(byte: int) -> str:
    return chr(0xDC00 + byte if byte >= 0x80 else byte)


def source_name(relative_path: str) -> str:
    """The name shown in the outputs: the path itself when it is text,
    otherwise its partition key (the bytes that are not text as %XX)."""
    return relative_path if _is_text(relative_path) else partition_key(relative_path)


def _is_text(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def list_sources(root: Path) -> list[Path]:
    """The files of the folder (sub-folders included), sorted, plus every
    symbolic link whose target lies outside it, so that it can be refused
    in plain sight. Links are never followed out of the folder, and a link
    to a folder inside it is not walked twice."""
    if not root.is_dir():
        return []
    found = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [name for name in dirnames if not name.startswith(IGNORED_PREFIXES)]
        for name in [*dirnames, *filenames]:
            if name.startswith(IGNORED_PREFIXES) or name in IGNORED_NAMES:
                continue
            path = Path(folder, name)
            if _leaves(path, root):
                found.append(path)
            elif name in filenames and path.is_file():
                found.append(path)
    return sorted(found)


def _leaves(path: Path, root: Path) -> bool:
    return path.is_symlink() and not path.resolve().is_relative_to(root)


def refusal(path: Path, root: Path) -> RejectedFile | None:
    """Why a file is refused from its name or link alone, before anything
    opens it; None for a file to read."""
    relative = path.relative_to(root).as_posix()
    if _leaves(path, root):
        return RejectedFile(
            "unsupported_format",
            f"« {source_name(relative)} » est un lien symbolique vers un emplacement situé hors du dossier "
            "source : il n'est pas suivi. Déposez le fichier lui-même dans le dossier.",
        )
    if not _is_text(relative):
        return RejectedFile(
            "unsupported_format",
            f"Le nom « {source_name(relative)} » contient des octets qui ne forment pas du texte (UTF-8), "
            "notés ici %XX : renommez le fichier pour qu'il soit lu.",
        )
    return None


def identity(path: Path, root: Path) -> str:
    """What a file's results are cached under: the SHA-256 of its bytes, or,
    for a file refused by its name or link (never opened), of that refusal."""
    refused = refusal(path, root)
    return content_hash(path) if refused is None else refusal_identity(refused)


def identities(files: dict[str, Path], root: Path) -> dict[str, str]:
    """Each file's identity, by key; a file gone or unreadable since it was
    listed is left out (the next look at the folder sees it as it is)."""
    found = {}
    for key, path in files.items():
        try:
            found[key] = identity(path, root)
        except OSError:
            continue
    return found


def refusal_identity(refused: RejectedFile) -> str:
    """A refused file's identity: its refusal, which names it."""
    return hashlib.sha256(f"{refused.reason}\0{refused.message}".encode()).hexdigest()


def content_hash(path: Path) -> str:
    """The SHA-256 of a file's bytes: its identity, whatever it is called."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_source(path: Path) -> Content:
    """Read the file once and hash those bytes: what is parsed is exactly
    what is identified. Raise SourceChanged when it vanishes, or when its
    size or modification time moves while it is read (written in place)."""
    try:
        with path.open("rb") as handle:
            before = os.fstat(handle.fileno())
            digest = hashlib.sha256()
            if before.st_size > MAX_FILE_BYTES:  # refused by intake: hashed, not kept
                data = b""
                for chunk in iter(lambda: handle.read(_CHUNK), b""):
                    digest.update(chunk)
            else:
                data = handle.read()
                digest.update(data)
            after = os.fstat(handle.fileno())
    except OSError as exc:  # gone, or no longer readable, since it was listed
        raise SourceChanged(f"disparu ou illisible ({exc.strerror or exc})") from exc
    if (before.st_size, before.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
        raise SourceChanged("modifié pendant sa lecture")
    return Content(digest.hexdigest(), after.st_size, data)
