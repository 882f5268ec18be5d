"""Stop reading between pages before the memory limit stops a reader mid-page.

An extraction worker runs under an address-space limit (RLIMIT_AS, set by
`pipeline.ingest.isolation`). Met in the middle of a page, the limit can
strike anywhere: in a library's clean-up, in C code that does not survive
it (a worker seen dying of SIGSEGV), and the file is then refused as a
crash, not as too large. Checked between pages, the file stops cleanly,
with room left to refuse it: a MemoryError, which the per-file boundary
turns into `too_large`.
"""

from __future__ import annotations

import resource
from pathlib import Path

# What a reader keeps free below its limit when it starts a page: a page
# of the national corpus takes under 2 MiB to lay out.
HEADROOM_BYTES = 8 * 1024 * 1024
_STATM = Path("/proc/self/statm")


def ensure_headroom() -> None:
    """Raise MemoryError when the process is within HEADROOM_BYTES of its
    address-space limit (no limit, or no /proc: nothing to check)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or not _STATM.exists():
        return
    if address_space() > soft - HEADROOM_BYTES:
        raise MemoryError("address space within the reader's headroom of its limit")


def address_space() -> int:
    """The process's address space now, in bytes: what RLIMIT_AS counts (Linux's /proc)."""
    return int(_STATM.read_text().split()[0]) * resource.getpagesize()
