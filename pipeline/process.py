"""Process one source file: the per-file boundary no exception crosses.

Whatever happens inside — a parser bug, a hostile file — the caller gets
a DocumentResult: `ok`, `partial` or `rejected` with a reason and a French
message, so that one bad file never stops a national run.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import RejectedFile
from pipeline.intake import content_hash, sniff
from pipeline.model import DocumentResult
from pipeline.parse.document import REQUIRED_SECTIONS, parse_layout
from pipeline.readers import ocr
from pipeline.readers.docx_reader import read_docx
from pipeline.readers.odt_reader import read_odt
from pipeline.readers.pdf_reader import ScannedPdf, read_pdf

log = logging.getLogger(__name__)

# A restitution reads in seconds; a file that takes minutes is pathological
# (or hostile) and must not hold up the run. A scan's OCR takes seconds per
# page: its deadline grows by ocr.SECONDS_PER_PAGE for each page.
MAX_SECONDS_PER_FILE = 120


class _Timeout(BaseException):
    """Not an Exception: parsers wrap every Exception they meet (pdfplumber
    does), and the deadline must reach the per-file boundary intact."""

SECTION_LABELS = {
    "intro": "Introduction (tableau de la session)",
    "diagnostic": "Diagnostic des points forts et irritants",
    "projection": "Synthèse des besoins & axes d'amélioration",
    "plan_action": "Plan d'action",
}


def document_id(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256: stable across renames."""
    return content_hash(path)[:16]


def process_file(path: Path, raw_root: Path) -> DocumentResult:
    started = time.perf_counter()
    source = path.relative_to(raw_root).as_posix()
    try:
        doc_id = document_id(path)
    except OSError as exc:
        return DocumentResult("", source, _suffix(path), "rejected", "corrupt",
                              f"Le fichier n'a pas pu être lu ({exc.strerror or exc}).")
    result = DocumentResult(doc_id, source, _suffix(path), "rejected", None, "")
    budget = MAX_SECONDS_PER_FILE
    try:
        with _deadline(MAX_SECONDS_PER_FILE) as extend:
            kind = sniff(path)
            result.format = kind
            try:
                layout = {"pdf": read_pdf, "docx": read_docx, "odt": read_odt}[kind](path)
            except ScannedPdf as scan:
                result.n_pages = scan.n_pages
                budget += extend(scan.n_pages * ocr.SECONDS_PER_PAGE)
                scanned = ocr.read_scan(path, scan)
                layout = scanned.layout
                result.ocr, result.ocr_confidence = True, scanned.confidence
            result.n_pages = layout.n_pages
            restitution = parse_layout(layout)
        _judge(result, restitution)
    except RejectedFile as exc:
        result.status, result.reason, result.message = "rejected", exc.reason, exc.message
    except _Timeout:
        result.status, result.reason = "rejected", "too_large"
        result.message = (f"La lecture du fichier a dépassé {budget:.0f} s : "
                          "document trop lourd ou malformé, fichier refusé.")
        result.restitution = None
    except Exception as exc:  # the per-file boundary: log it, quarantine the file, go on
        log.exception("Unexpected error on %s", source)
        result.status, result.reason = "rejected", "corrupt"
        result.message = f"Le fichier n'a pas pu être analysé ({type(exc).__name__} : {exc})."[:500]
        result.restitution = None
    result.seconds = time.perf_counter() - started
    return result


@contextmanager
def _deadline(seconds: float):
    """Interrupt the work on one file after `seconds` (main thread only:
    signals cannot reach other threads; there the file just runs on).
    Yields `extend(extra)`, which pushes the deadline back by `extra`
    seconds (a scan, once its page count is known) and returns `extra`."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda extra: extra
        return

    def expire(signum, frame):
        raise _Timeout()

    def extend(extra: float) -> float:
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        if remaining > 0:
            signal.setitimer(signal.ITIMER_REAL, remaining + extra)
        return extra

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield extend
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _judge(result: DocumentResult, restitution) -> None:
    found = restitution.sections_found
    if not found & {"intro", *REQUIRED_SECTIONS}:
        raise RejectedFile(
            "not_a_restitution",
            "Aucune section de la trame de restitution (introduction, diagnostic, projection, "
            "plan d'action) n'a été trouvée : ce document n'est pas une restitution.",
        )
    result.restitution = restitution
    missing = [section for section in REQUIRED_SECTIONS if section not in found]
    if missing:
        result.status, result.reason = "partial", "missing_sections"
        labels = ", ".join(SECTION_LABELS[section] for section in missing)
        result.message = f"Restitution incomplète : section(s) absente(s) : {labels}."
    else:
        result.status, result.reason = "ok", None
        result.message = f"{len(restitution.items)} énoncés extraits."


def _suffix(path: Path) -> str:
    return path.suffix.lower().lstrip(".") or "inconnu"
