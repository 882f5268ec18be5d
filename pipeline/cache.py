"""Per-file results cached by content, so unchanged files are never redone.

A result is stored under the SHA-256 of the file's bytes and the version
of the code that produced it: the same bytes read by the same code give
the same result, whatever the file is called or when it is seen again.
A change to the extraction code, the classifier model or the taxonomy
changes the version, and the files are processed afresh.

The index records, for each source file (partition), which content it
held when last processed, so the aggregates read exactly the files that
are currently in the raw folder.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from functools import lru_cache
from pathlib import Path

from pipeline.export import write_atomic_bytes
from pipeline.model import DocumentResult
from pipeline.readers import tesseract

_PACKAGE = Path(__file__).parent
_EXTRACTION_SOURCES = ["model.py", "text.py", "intake.py", "process.py", "errors.py", "readers", "parse",
                       "normalize", "data/departements.csv", "data/acteurs.csv"]
_CLASSIFICATION_SOURCES = ["classify", "data/taxonomy.json", "data/acronymes.csv"]
_SOURCES = {"extraction": _EXTRACTION_SOURCES, "classification": _CLASSIFICATION_SOURCES,
            # Tables, aggregates, report, workbook: any source of the package
            # (which includes the other two stages' sources).
            "publication": ["."]}


@lru_cache(maxsize=None)
def code_version(stage: str) -> str:
    """A fingerprint of the files a stage's results depend on. Extraction
    depends on the OCR engine too: a scan quarantined because Tesseract
    was missing is read once it is installed."""
    version = source_digest(_PACKAGE, _SOURCES[stage])
    if stage == "extraction":
        version = hashlib.sha256(f"{version} {tesseract.engine()}".encode()).hexdigest()[:12]
    return version


def source_digest(root: Path, names: list[str]) -> str:
    """A fingerprint of files and folders (recursively) under `root`."""
    digest = hashlib.sha256()
    for name in names:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if path.is_dir() else [path]
        for file in files:
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def corpus_version(contents: dict[str, str], code: str = "") -> str:
    """The identity of what the outputs are made from: which files (by
    partition key) with which contents, read by which code. Equal versions
    give equal outputs, so a publication of this version need not be redone."""
    digest = hashlib.sha256(code.encode())
    digest.update(code_version("publication").encode())
    for key in sorted(contents):
        digest.update(f"{key}\0{contents[key]}\n".encode())
    return digest.hexdigest()[:16]


class ResultCache:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _result_path(self, stage: str, sha256: str) -> Path:
        return self.root / stage / code_version(stage) / f"{sha256}.pickle"

    def get(self, stage: str, sha256: str) -> DocumentResult | None:
        path = self._result_path(stage, sha256)
        if not path.exists():
            return None
        try:
            return pickle.loads(path.read_bytes())
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            return None  # an unreadable entry is recomputed, not trusted

    def has(self, stage: str, sha256: str) -> bool:
        return self._result_path(stage, sha256).exists()

    def put(self, stage: str, sha256: str, result: DocumentResult) -> None:
        write_atomic_bytes(self._result_path(stage, sha256), pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))

    def _index_path(self, key: str) -> Path:
        return self.root / "index" / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"

    def record(self, key: str, sha256: str, source_file: str) -> None:
        """Remember which content a source file held when last processed."""
        entry = {"key": key, "sha256": sha256, "source_file": source_file}
        if self.recorded(key) != entry:  # unchanged entries are not rewritten (and fsynced)
            write_atomic_bytes(self._index_path(key), json.dumps(entry).encode())

    def is_done(self, key: str, sha256: str, stage: str = "classification") -> bool:
        """Whether this file, with this content, has gone through `stage` already."""
        entry = self.recorded(key)
        return bool(entry) and entry["sha256"] == sha256 and self.has(stage, sha256)

    def recorded(self, key: str) -> dict | None:
        path = self._index_path(key)
        return json.loads(path.read_text()) if path.exists() else None

    def forget(self, key: str) -> None:
        self._index_path(key).unlink(missing_ok=True)
