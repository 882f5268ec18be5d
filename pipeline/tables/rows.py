"""Turn per-file results into the contract's per-document tables.

Values stay Python values here (None, bool, int, list); the CSV writer
formats them as the contract says (empty cell, true/false, " | ").
"""

from __future__ import annotations

import hashlib
from pathlib import PurePosixPath
from typing import Any

import pandas as pd

from pipeline.contract import DUPLICATE_REASON, UNKNOWN_THEME_REASON
from pipeline.ingest.normalize.themes import UNKNOWN
from pipeline.model import DocumentResult, Item
from pipeline.tables.schemas import COLUMNS


def item_id(document_id: str | None, item: Item) -> str:
    """Stable across runs: where the statement sits, not what it says. (Only
    a file that was read has items, and it always has a document_id.)"""
    key = f"{document_id}|{item.section}|{item.table_index}|{item.row_index}|{item.column}|{item.position}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def document_row(result: DocumentResult, ingested_at: str) -> dict[str, Any]:
    meta = result.restitution.meta if result.restitution else None
    return {
        "document_id": result.document_id,
        "source_file": result.source_file,
        "format": result.format,
        "status": result.status,
        "reason": result.reason,
        "message": result.message,
        "departement_code": meta.departement_code if meta else None,
        "departement": meta.departement if meta else None,
        "academie": meta.academie if meta else None,
        "region_academique": meta.region_academique if meta else None,
        "session_date": meta.session_date if meta else None,
        "session_place": meta.session_place if meta else None,
        "session_format": meta.session_format if meta else None,
        "n_pages": result.n_pages,
        "n_items": len(result.items),
        "is_current": None,  # decided across documents: see mark_current
        "ingested_at": ingested_at,
        "ocr": result.ocr,
        "ocr_confidence": result.ocr_confidence,
    }


def item_rows(result: DocumentResult) -> list[dict[str, Any]]:
    code = result.restitution.meta.departement_code if result.restitution else None
    return [
        {
            "item_id": item_id(result.document_id, item),
            "document_id": result.document_id,
            "departement_code": code,
            "section": item.section,
            "theme": item.theme,
            "theme_raw": item.theme_raw,
            "role": item.role,
            "text": item.text,
            "category": item.category,
            "categories": item.categories,
            "category_score": item.category_score,
            "page": item.page,
            "table_index": item.table_index,
            "row_index": item.row_index,
            # Corrections and the review queue set these (pipeline/tables/corrections.py, pipeline/tables/review.py).
            "category_source": "model",
            "needs_review": False,
        }
        for item in result.items
    ]


def participant_rows(result: DocumentResult) -> list[dict[str, Any]]:
    if result.restitution is None:
        return []
    code = result.restitution.meta.departement_code
    return [
        {
            "document_id": result.document_id,
            "departement_code": code,
            "category": p.category,
            "checked": p.checked,
            "count": p.count,
            "n_etablissements": p.n_etablissements,
        }
        for p in result.restitution.participants
    ]


def action_rows(result: DocumentResult) -> list[dict[str, Any]]:
    if result.restitution is None:
        return []
    code = result.restitution.meta.departement_code
    return [
        {
            "document_id": result.document_id,
            "departement_code": code,
            "theme": a.theme,
            "quoi": a.quoi,
            "comment": a.comment,
            "acteurs": a.acteurs,
            "acteurs_raw": a.acteurs_raw,
            "temporalite": a.temporalite,
            "temporalite_raw": a.temporalite_raw,
            "indicateurs": a.indicateurs,
        }
        for a in result.restitution.actions
    ]


def quarantine_rows(result: DocumentResult, detected_at: str) -> list[dict[str, Any]]:
    """The file itself when not fully ingested, and each item of unknown theme.

    A RETEX title for which the document states no theme is `inconnu` by
    design (CONTRACT.md) and is not quarantined.
    """
    rows = []
    if result.status != "ok":
        rows.append({
            "source_file": result.source_file, "document_id": result.document_id,
            "reason": result.reason, "message": result.message, "detected_at": detected_at,
        })
    for item in result.items:
        if item.theme != UNKNOWN or (item.section == "retex" and not item.theme_raw):
            continue
        rows.append({
            "source_file": result.source_file,
            "document_id": result.document_id,
            "reason": UNKNOWN_THEME_REASON,
            "message": (
                f"Thème non reconnu « {item.theme_raw or '(vide)'} » pour l'énoncé "
                f"{item_id(result.document_id, item)} ({item.section}, {item.role}) : « {item.text[:80]} »."
            ),
            "detected_at": detected_at,
        })
    return rows


def mark_current(documents: pd.DataFrame) -> pd.DataFrame:
    """A restitution is superseded only by a strictly newer one.

    Newer means a later session date for the same département. Two files
    of the same session (a DOCX and its PDF export, say) both stay
    current; the aggregates count that session once (see aggregate.py).
    """
    documents = documents.copy()
    readable = (documents["status"] != "rejected")
    documents["is_current"] = readable.map(lambda ok: True if ok else None).astype(object)
    dated = documents[readable & documents["departement_code"].notna()]
    latest = dated.groupby("departement_code")["session_date"].agg(
        lambda dates: max((d for d in dates if d), default="")
    )
    for index, row in dated.iterrows():
        if (row["session_date"] or "") < latest[row["departement_code"]]:
            documents.at[index, "is_current"] = False
    return documents


def set_aside_duplicates(results: list[DocumentResult]) -> list[DocumentResult]:
    """Byte-identical files count once (contract v1.1): the first by path is
    the one read; each copy becomes a `rejected`/`duplicate` row naming it,
    with no document_id (the id belongs to the file read) and nothing else.
    Paths are ordered by folder, then by name before its extension, so that
    "x.docx" comes before its copy "x (1).docx"."""
    originals: dict[str, DocumentResult] = {}
    kept = []
    for result in sorted(results, key=lambda r: _path_order(r.source_file)):
        original = originals.setdefault(result.identity, result)
        if original is result:
            kept.append(result)
            continue
        kept.append(DocumentResult(
            None, result.source_file, result.format, "rejected", DUPLICATE_REASON,
            f"Copie identique, octet pour octet, de « {original.source_file} » : seul ce fichier est lu.",
            identity=result.identity,
        ))
    return kept


def _path_order(source_file: str) -> tuple[str, ...]:
    path = PurePosixPath(source_file)
    return (*path.parent.parts, path.stem, path.suffix)


def _frame(name: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=COLUMNS[name], dtype=object)


def _ordered(results: list[DocumentResult]) -> list[DocumentResult]:
    return sorted(results, key=lambda r: r.source_file)


def documents_table(results: list[DocumentResult], ingested: dict[str, str]) -> pd.DataFrame:
    """One row per file. `ingested` maps each result's identity to the time
    its content was first seen, so reprocessing the same bytes keeps it."""
    rows = [document_row(r, ingested[r.identity]) for r in _ordered(results)]
    return mark_current(_frame("documents", rows))


def items_table(results: list[DocumentResult]) -> pd.DataFrame:
    return _frame("items", [row for r in _ordered(results) for row in item_rows(r)])


def review_signals(results: list[DocumentResult]) -> pd.DataFrame:
    """What the classifier knows of each classified item beyond its score, for
    the review queue (pipeline/tables/review.py); not a contract table."""
    rows = [
        {"item_id": item_id(r.document_id, item), "category_margin": item.category_margin,
         "model_category": item.model_category, "cue_category": item.cue_category}
        for r in _ordered(results) for item in r.items if item.category
    ]
    return pd.DataFrame(rows, columns=["item_id", "category_margin", "model_category", "cue_category"], dtype=object)


def participants_table(results: list[DocumentResult]) -> pd.DataFrame:
    return _frame("participants", [row for r in _ordered(results) for row in participant_rows(r)])


def actions_table(results: list[DocumentResult]) -> pd.DataFrame:
    return _frame("actions", [row for r in _ordered(results) for row in action_rows(r)])


def quarantine_table(results: list[DocumentResult], documents: pd.DataFrame) -> pd.DataFrame:
    """Quarantine rows dated by their file's first ingestion, so that a
    rerun on the same files writes the same bytes."""
    seen = dict(zip(documents["source_file"], documents["ingested_at"]))
    return _frame("quarantine", [row for r in _ordered(results) for row in quarantine_rows(r, seen[r.source_file])])
