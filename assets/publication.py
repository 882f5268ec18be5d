"""Whether the outputs folder already holds what a run would write.

`corpus` records, as its data version, the identity of the files it is made
of and of the code that reads them (`pipeline.cache.corpus_version`, with
this package's sources). Each asset that writes into the outputs folder
records the SHA-256 of the files it wrote. Nothing needs redoing when the
latest `corpus` has the current version, every publishing asset was
materialised after it, and their files are still on disk as written: that
is how `egn run` answers a rerun over unchanged files in a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipeline.cache import corpus_version, source_digest
from pipeline.sources import content_hash

PUBLISHING = ("contract_files", "synthesis_report", "synthesis_workbook")
DATA_VERSION_TAG = "dagster/data_version"  # where Dagster keeps a materialisation's DataVersion
FINGERPRINTS = "empreintes des fichiers écrits"
_ASSETS_CODE = source_digest(Path(__file__).parent, ["."])


def current_version(contents: dict[str, str], raw_root: Path) -> str:
    """`corpus`'s data version for these files (partition key → SHA-256) in
    this raw folder (the report links to the files by their path)."""
    return corpus_version(contents, f"{_ASSETS_CODE}\0{raw_root}")


def fingerprints(paths: list[Path]) -> dict:
    """Metadata of a publishing asset: what it wrote, by path."""
    return {FINGERPRINTS: dg.MetadataValue.json({str(path): content_hash(path) for path in paths})}


def is_published(instance: dg.DagsterInstance, version: str) -> bool:
    corpus = _latest(instance, "corpus")
    if corpus is None or corpus.asset_materialization.tags.get(DATA_VERSION_TAG) != version:
        return False
    for name in PUBLISHING:
        record = _latest(instance, name)
        if record is None or record.storage_id < corpus.storage_id:
            return False
        entry = record.asset_materialization.metadata.get(FINGERPRINTS)
        if entry is None or not _unchanged(entry.value):
            return False
    return True


def _latest(instance: dg.DagsterInstance, name: str) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(dg.AssetKey(name), limit=1).records
    return records[0] if records else None


def _unchanged(written: dict[str, str]) -> bool:
    return all(Path(path).is_file() and content_hash(Path(path)) == digest for path, digest in written.items())
