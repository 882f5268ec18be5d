"""One dynamic partition per source file, keyed by its path in the raw folder."""

import re

import dagster as dg

FILES = dg.DynamicPartitionsDefinition(name="fichiers")

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def partition_key(relative_path: str) -> str:
    """The file's relative path, made acceptable to Dagster: no "..." and
    no control characters (readable, and stable while the file stays put)."""
    return _CONTROL_RE.sub("_", relative_path).replace("...", "…")


def partition_range_tags(keys: list[str]) -> dict[str, str]:
    """Tags that make one run cover every partition (a single-run backfill)."""
    return {"dagster/asset_partition_range_start": keys[0], "dagster/asset_partition_range_end": keys[-1]}
