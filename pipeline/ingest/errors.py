"""The exceptions of the per-file boundary: the one it turns into a
quarantine row, and the one that means "no outcome in this run"."""

from __future__ import annotations


class RejectedFile(Exception):
    """A file that cannot be read as a restitution, with the contract's reason.

    `message` is French: it reaches analysts unchanged in documents.csv,
    quarantine.csv and the Dagster UI.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


class SourceChanged(Exception):
    """The file vanished or was rewritten while it was being read.

    Not a property of the file: nothing about it may be cached. The file
    is left out of this run; the sensor or the next run reads it as it is
    then.
    """
