"""Process one source file: the per-file boundary no exception crosses.

Whatever happens inside — a parser bug, a hostile file — the caller gets
a DocumentResult: `ok`, `partial` or `rejected` with a reason and a French
message, so that one bad file never stops a national run.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

from pipeline.errors import RejectedFile
from pipeline.intake import sniff
from pipeline.model import DocumentResult
from pipeline.parse.document import REQUIRED_SECTIONS, parse_layout
from pipeline.readers.docx_reader import read_docx
from pipeline.readers.pdf_reader import read_pdf

log = logging.getLogger(__name__)

SECTION_LABELS = {
    "intro": "Introduction (tableau de la session)",
    "diagnostic": "Diagnostic des points forts et irritants",
    "projection": "Synthèse des besoins & axes d'amélioration",
    "plan_action": "Plan d'action",
}


def document_id(path: Path) -> str:
    """First 16 hex digits of the file's SHA-256: stable across renames."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def process_file(path: Path, raw_root: Path) -> DocumentResult:
    started = time.perf_counter()
    source = path.relative_to(raw_root).as_posix()
    try:
        doc_id = document_id(path)
    except OSError as exc:
        return DocumentResult("", source, _suffix(path), "rejected", "corrupt",
                              f"Le fichier n'a pas pu être lu ({exc.strerror or exc}).")
    result = DocumentResult(doc_id, source, _suffix(path), "rejected", None, "")
    try:
        kind = sniff(path)
        result.format = kind
        layout = read_pdf(path) if kind == "pdf" else read_docx(path)
        result.n_pages = layout.n_pages
        restitution = parse_layout(layout)
        _judge(result, restitution)
    except RejectedFile as exc:
        result.status, result.reason, result.message = "rejected", exc.reason, exc.message
    except Exception as exc:  # the per-file boundary: log it, quarantine the file, go on
        log.exception("Unexpected error on %s", source)
        result.status, result.reason = "rejected", "corrupt"
        result.message = f"Le fichier n'a pas pu être analysé ({type(exc).__name__} : {exc})."[:500]
        result.restitution = None
    result.seconds = time.perf_counter() - started
    return result


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
