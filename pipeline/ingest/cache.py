"""Per-file results cached by content, so unchanged files are never redone.

A result is stored under the SHA-256 of the file's bytes and the version
of the code that produced it: the same bytes read by the same code give
the same result, whatever the file is called or when it is seen again.

A stage's version is a fingerprint of what the stage runs: the modules
its entry points import, transitively, within this package, and the data
files they read through `files("pipeline").joinpath(...)` — found in the
sources, never listed by hand, so a new import or data file cannot be
forgotten. Classification works on the extraction's output, so its
version includes the extraction's: a parser fix re-reads and
re-classifies; a new model or taxonomy re-classifies without re-reading.

The index records, for each source file (partition), which content it
held when last processed, so the aggregates read exactly the files that
are currently in the raw folder. First-seen times (`ingested_at`) are
kept here too, by content: they belong to the files, not to whatever was
last published.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import pickle
from functools import cache
from pathlib import Path
from typing import TypedDict

from pipeline.ingest.readers import tesseract
from pipeline.model import DocumentResult
from pipeline.publish.atomic import write_atomic_bytes

_PACKAGE = Path(__file__).parent.parent  # pipeline/
# Where each stage starts; what they import and read is found from there.
_ENTRY_MODULES = {
    "extraction": ["pipeline.ingest.process", "pipeline.ingest.isolation"],
    "classification": ["pipeline.classify.apply", "pipeline.classify.classifier"],
}
_INCLUDES = {"classification": "extraction"}


@cache
def code_version(stage: str, package: Path = _PACKAGE) -> str:
    """A fingerprint of the files a stage's results depend on. Tables,
    aggregates, report and workbook ("publication") depend on any source
    of the package. Extraction depends on the OCR engine too: a scan
    quarantined because Tesseract was missing is read once it is installed."""
    if stage == "publication":
        return source_digest(package, ["."])
    digest = source_digest(package, stage_sources(package, _ENTRY_MODULES[stage]))
    if stage == "extraction":
        digest = hashlib.sha256(f"{digest} {tesseract.engine()}".encode()).hexdigest()[:12]
    if stage in _INCLUDES:
        digest = hashlib.sha256(f"{code_version(_INCLUDES[stage], package)}\0{digest}".encode()).hexdigest()[:12]
    return digest


def stage_sources(package: Path, modules: list[str]) -> list[str]:
    """The package's files that `modules` run: their own and every module
    they import within the package (at any depth, including imports made
    inside functions), plus the data files and folders named in a
    `joinpath(...)` of string literals. Paths relative to the package."""
    todo, found = list(modules), set()
    while todo:
        module = todo.pop()
        path = _module_file(package, module)
        if path is None or path in found:
            continue
        found.add(path)
        parts = module.split(".")
        todo += [".".join(parts[:depth]) for depth in range(1, len(parts))]  # its packages run first
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                todo += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "joinpath":
                names = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
                if names and len(names) == len(node.args):  # string literals only
                    data = package.joinpath(*names)
                    if data.exists():
                        found.add(data)
    return sorted(path.relative_to(package).as_posix() for path in found)


def _module_file(package: Path, module: str) -> Path | None:
    """The file of a module of this package (None for any other module)."""
    parts = module.split(".")
    if parts[0] != package.name:
        return None
    base = package.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


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


class IndexEntry(TypedDict):
    """Which content a source file (partition key) held when last processed."""

    key: str
    sha256: str
    source_file: str


class ResultCache:
    """`model` names the classifier version in service when it is not the
    shipped one (pipeline/classify/versions.py): its classifications are
    kept apart, so a promotion or a roll-back re-classifies from the
    extraction cache, and rolling back finds the earlier ones again."""

    def __init__(self, root: Path, model: str = "") -> None:
        self.root = root
        self.model = model

    def _result_path(self, stage: str, sha256: str) -> Path:
        version = code_version(stage)
        if stage == "classification" and self.model:
            version = f"{version}-{self.model}"
        return self.root / stage / version / f"{sha256}.pickle"

    def get(self, stage: str, sha256: str) -> DocumentResult | None:
        path = self._result_path(stage, sha256)
        if not path.exists():
            return None
        try:
            result: DocumentResult = pickle.loads(path.read_bytes())
            return result
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
        entry: IndexEntry = {"key": key, "sha256": sha256, "source_file": source_file}
        if self.recorded(key) != entry:  # unchanged entries are not rewritten (and fsynced)
            write_atomic_bytes(self._index_path(key), json.dumps(entry).encode())

    def is_done(self, key: str, sha256: str, stage: str = "classification") -> bool:
        """Whether this file, with this content, has gone through `stage` already."""
        entry = self.recorded(key)
        if not entry:
            return False
        return entry["sha256"] == sha256 and self.has(stage, sha256)

    def recorded(self, key: str) -> IndexEntry | None:
        path = self._index_path(key)
        if not path.exists():
            return None
        entry: IndexEntry = json.loads(path.read_text())
        return entry

    def forget(self, key: str) -> None:
        self._index_path(key).unlink(missing_ok=True)

    def first_seen(self, identity: str, now: str) -> str:
        """When this content was first seen: `now` the first time it is asked
        for (recorded for good), the recorded time ever after."""
        path = self.root / "first_seen" / identity
        if not path.exists():
            _create_once(path, now.encode())
        return path.read_text()


def _create_once(path: Path, data: bytes) -> None:
    """Write a whole file at `path` unless it exists: a temporary file
    linked into place, so a concurrent first writer wins and no reader
    ever sees a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
