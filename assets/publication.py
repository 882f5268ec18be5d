"""Whether the outputs folder already holds what a run would write.

`corpus` records, as its data version, the identity of the files it is made
of and of the code that reads them (`pipeline.ingest.cache.corpus_version`, with
this package's sources). Nothing needs redoing when the latest `corpus` has
the current version, the latest `corrections_applied` was made from the
corrections folder as it is, the latest `publication` came after both, and
the outputs folder is still that publication, file for file: its manifest
names that run and every file matches its SHA-256. That is how `egn run`
answers a rerun over unchanged files in a few seconds.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from pipeline.ingest.cache import corpus_version, source_digest
from pipeline.publish.folders import verified_manifest

DATA_VERSION_TAG = "dagster/data_version"  # where Dagster keeps a materialisation's DataVersion
_ASSETS_CODE = source_digest(Path(__file__).parent, ["."])


def current_version(contents: dict[str, str], raw_root: Path, model: str) -> str:
    """`corpus`'s data version for these files (partition key → SHA-256) in
    this raw folder (the report links to the files by their path), as
    classified by this model version (promoting or rolling back one changes
    the categories of files that did not change)."""
    return corpus_version(contents, f"{_ASSETS_CODE}\0{raw_root}\0{model}")


def is_published(instance: dg.DagsterInstance, version: str, outputs: Path, corrections_version: str) -> bool:
    """`corrections_version` is the corrections folder's (`pipeline.tables.corrections.folder_version`),
    which `corrections_applied` records as its data version."""
    corpus = _latest(instance, "corpus")
    if corpus is None or corpus.asset_materialization.tags.get(DATA_VERSION_TAG) != version:
        return False
    applied = _latest(instance, "corrections_applied")
    if applied is None or applied.asset_materialization.tags.get(DATA_VERSION_TAG) != corrections_version:
        return False
    publication = _latest(instance, "publication")
    if publication is None or publication.storage_id < max(corpus.storage_id, applied.storage_id):
        return False
    manifest = verified_manifest(outputs)
    return manifest is not None and manifest.run_id == publication.run_id


def _latest(instance: dg.DagsterInstance, name: str) -> dg.EventLogRecord | None:
    records = instance.fetch_materializations(dg.AssetKey(name), limit=1).records
    return records[0] if records else None
