"""One dynamic partition per source file, keyed by its path in the raw
folder (escaped where Dagster cannot hold it: see pipeline.ingest.sources)."""

import dagster as dg

from pipeline.ingest.sources import partition_key

__all__ = ["FILES", "partition_key", "partition_range_tags"]

FILES = dg.DynamicPartitionsDefinition(name="fichiers")


def partition_range_tags(keys: list[str]) -> dict[str, str]:
    """Tags that make one run cover every partition (a single-run backfill)."""
    return {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
