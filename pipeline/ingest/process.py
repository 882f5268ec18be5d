"""Process one source file: the per-file boundary no exception crosses.

Whatever happens inside — a parser bug, a hostile file — the caller gets
a DocumentResult: `ok`, `partial` or `rejected` with a reason and a French
message, so that one bad file never stops a national run. The one
exception is SourceChanged: the file vanished or changed while it was
read, which says nothing about the file and must not be recorded.
"""

from __future__ import annotations

import io
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from types import FrameType
from typing import BinaryIO, NoReturn, TypeVar

from pipeline.ingest.errors import RejectedFile
from pipeline.ingest.intake import sniff
from pipeline.ingest.normalize.departements import (
    COVER_PAGE_BASIS,
    FILE_NAME_BASIS,
    Guess,
    departements,
    guess_from_file_name,
)
from pipeline.ingest.parse.columns import names_columns
from pipeline.ingest.parse.document import REQUIRED_SECTIONS, parse_layout
from pipeline.ingest.parse.intro import INTRO, starts_intro
from pipeline.ingest.readers import ocr
from pipeline.ingest.readers.docx_reader import read_docx
from pipeline.ingest.readers.odt_reader import read_odt
from pipeline.ingest.readers.pdf_reader import ScannedPdf, read_pdf
from pipeline.ingest.sources import read_source, refusal, refusal_identity, source_name
from pipeline.labels import EXPECTED_SECTION_LABELS
from pipeline.model import DocumentResult, Layout, Restitution

log = logging.getLogger(__name__)

# A restitution reads in seconds; a file that takes minutes is pathological
# (or hostile) and must not hold up the run. A scan's OCR takes seconds per
# page: its deadline grows by ocr.SECONDS_PER_PAGE for each page.
MAX_SECONDS_PER_FILE = 120


def table_header(texts: list[str]) -> bool:
    """A PDF or scanned table drawn without vertical rules is rebuilt below
    a row that names a data table's columns or opens the introduction."""
    return names_columns(texts) or starts_intro(texts)


# The readers of each format the intake recognises, all reading the same bytes.
READERS: dict[str, Callable[[Path | BinaryIO], Layout]] = {
    "pdf": partial(read_pdf, header=table_header), "docx": read_docx, "odt": read_odt}


def timeout_message(seconds: float) -> str:
    return f"La lecture du fichier a dépassé {seconds:.0f} s : document trop lourd ou malformé, fichier refusé."


TIMEOUT_MESSAGE = timeout_message(MAX_SECONDS_PER_FILE)
# No exception name or text: they mean nothing to an analyst (the log keeps them).
UNREADABLE_MESSAGE = ("Le fichier n'a pas pu être analysé : il est endommagé, ou sa structure n'est pas "
                      "celle d'un document PDF, Word ou LibreOffice lisible.")
OUT_OF_MEMORY_MESSAGE = ("La lecture du fichier a dépassé la mémoire allouée à un lecteur : "
                         "document trop lourd ou piégé, fichier refusé.")


class _Timeout(BaseException):
    """Not an Exception: parsers wrap every Exception they meet (pdfplumber
    does), and the deadline must reach the per-file boundary intact."""


def process_file(path: Path, raw_root: Path,
                 on_extension: Callable[[float], None] | None = None) -> DocumentResult:
    """Read, parse and judge one file, whose bytes are read once: the
    result's document_id and identity are the SHA-256 of what was parsed.
    Raises SourceChanged when the file vanishes or changes meanwhile.
    `on_extension` hears of each extension of the file's deadline (a scan's
    pages), for a watchdog outside this process."""
    started = time.perf_counter()
    source = source_name(path.relative_to(raw_root).as_posix())
    refused = refusal(path, raw_root)
    if refused is not None:  # never opened
        return DocumentResult(None, source, declared_format(path), "rejected", refused.reason,
                              refused.message + guessed_departement(source, None),
                              identity=refusal_identity(refused))
    content = read_source(path)
    result = DocumentResult(content.sha256[:16], source, declared_format(path), "rejected", None, "",
                            identity=content.sha256)
    budget: float = MAX_SECONDS_PER_FILE
    restitution = None
    try:
        with _deadline(MAX_SECONDS_PER_FILE) as extend:
            kind = sniff(content.data, content.size, path.suffix)
            result.format = kind
            try:
                layout = READERS[kind](io.BytesIO(content.data))
            except ScannedPdf as scan:
                result.n_pages = scan.n_pages
                budget += extend(scan.n_pages * ocr.SECONDS_PER_PAGE)
                if on_extension is not None:
                    on_extension(scan.n_pages * ocr.SECONDS_PER_PAGE)
                scanned = ocr.read_scan(content.data, scan, header=table_header)
                layout = scanned.layout
                result.ocr, result.ocr_confidence = True, scanned.confidence
            result.n_pages = layout.n_pages
            restitution = parse_layout(layout)
        _judge(result, restitution)
    except RejectedFile as exc:
        result.status, result.reason, result.message = "rejected", exc.reason, exc.message
    except _Timeout:
        result.status, result.reason, result.message = "rejected", "too_large", timeout_message(budget)
        result.restitution = None
    except Exception as exc:  # the per-file boundary: log it, quarantine the file, go on
        result.status, result.restitution = "rejected", None
        # pdfplumber wraps whatever pdfminer raises: our own refusals (a bounded
        # stream) and the worker's memory limit (pipeline.ingest.isolation) included.
        if (refused := _raised_within(exc, RejectedFile)) is not None:
            result.reason, result.message = refused.reason, refused.message
        elif _raised_within(exc, MemoryError) is not None:
            result.reason, result.message = "too_large", OUT_OF_MEMORY_MESSAGE
        else:
            log.exception("Unexpected error on %s", source)
            result.reason, result.message = "corrupt", UNREADABLE_MESSAGE
    if result.status == "rejected":
        result.message += guessed_departement(source, restitution)
    result.seconds = time.perf_counter() - started
    return result


def guessed_departement(source_file: str, restitution: Restitution | None) -> str:
    """The sentence that names the département a rejected file seems to
    come from (its cover page, else its name), so that analysts know whom
    to call; empty when neither says. documents.csv keeps its département
    columns empty: a guess is not a reading."""
    code = restitution.meta.departement_code if restitution is not None else None
    if code:  # the walker sets it from the reference table
        return Guess(departements()[code], COVER_PAGE_BASIS).sentence()
    found = guess_from_file_name(source_file)
    return Guess(found, FILE_NAME_BASIS).sentence() if found else ""


_E = TypeVar("_E", bound=BaseException)


def _raised_within(exc: BaseException | None, kind: type[_E]) -> _E | None:
    """The first exception of type `kind` in `exc`'s chain of causes."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


@contextmanager
def _deadline(seconds: float) -> Iterator[Callable[[float], float]]:
    """Interrupt the work on one file after `seconds` (main thread only:
    signals cannot reach other threads; there the file just runs on).
    Yields `extend(extra)`, which pushes the deadline back by `extra`
    seconds (a scan, once its page count is known) and returns `extra`."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda extra: extra
        return

    def expire(signum: int, frame: FrameType | None) -> NoReturn:
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


def _judge(result: DocumentResult, restitution: Restitution) -> None:
    found = restitution.sections_found
    if not found & {INTRO, *REQUIRED_SECTIONS}:
        raise RejectedFile(
            "not_a_restitution",
            "Aucune section de la trame de restitution (introduction, diagnostic, projection, "
            "plan d'action) n'a été trouvée : ce document n'est pas une restitution.",
        )
    result.restitution = restitution
    missing = [section for section in REQUIRED_SECTIONS if section not in found]
    if missing:
        result.status, result.reason = "partial", "missing_sections"
        labels = ", ".join(EXPECTED_SECTION_LABELS[section] for section in missing)
        result.message = f"Restitution incomplète : section(s) absente(s) : {labels}."
    else:
        result.status, result.reason = "ok", None
        result.message = f"{len(restitution.items)} énoncés extraits."


def declared_format(path: Path) -> str:
    """The format a file's name claims (its extension), until its bytes say."""
    return path.suffix.lower().lstrip(".") or "inconnu"
