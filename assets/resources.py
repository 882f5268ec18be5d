"""Resources: where the files come from and where the results go.

Folders are resources, not constants, so the UI, the nightly schedule and
`egn run` can point the same asset definitions at other folders
(EGN_RAW_DIR, EGN_OUTPUTS_DIR), and so the raw folder can later be object
storage behind the same two methods.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

from pipeline.model import DocumentResult

# Office lock files ("~$rapport.docx") and hidden files are not documents.
_IGNORED_PREFIXES = ("~$", ".")


def default_raw_dir() -> str:
    return os.environ.get("EGN_RAW_DIR", "raw")


def default_outputs_dir() -> str:
    return os.environ.get("EGN_OUTPUTS_DIR", "outputs")


class RawFolder(dg.ConfigurableResource):
    """The folder analysts drop restitutions into. Read only: never written."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()

    def list_files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(
            p for p in self.root.rglob("*")
            if p.is_file() and not any(part.startswith(_IGNORED_PREFIXES) for part in p.relative_to(self.root).parts)
            and p.name != "README.md"
        )


class OutputsFolder(dg.ConfigurableResource):
    """The folder the contract's CSV files are written to."""

    path: str

    @property
    def root(self) -> Path:
        return Path(self.path).resolve()


class Progress(dg.ConfigurableResource):
    """One line per document on standard output, for `egn run`; silent in the UI."""

    echo: bool = False

    def document(self, index: int, total: int, result: DocumentResult) -> None:
        if not self.echo:
            return
        detail = result.reason or f"{len(result.items)} énoncés"
        print(f"[{index}/{total}] {result.status:<8} {result.source_file} ({detail}, {result.seconds:.1f} s)", flush=True)


class ClassifierResource(dg.ConfigurableResource):
    """The spaCy classifier, loaded once per process when a run starts —
    never when the code location loads (it takes seconds)."""

    taxonomy_path: str | None = None

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        from pipeline.classify.classifier import Classifier

        self._classifier = Classifier(taxonomy_path=Path(self.taxonomy_path) if self.taxonomy_path else None)

    @property
    def classifier(self):
        return self._classifier
