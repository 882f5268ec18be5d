"""The one exception the per-file boundary turns into a quarantine row."""

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
