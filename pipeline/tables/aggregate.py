"""Cross-département aggregates, over current documents only.

A département counts once: only one current file per département feeds
these tables (see counted_ids).
"""

from __future__ import annotations

import pandas as pd

from pipeline.contract import PARTICIPANT_CATEGORIES
from pipeline.ingest.normalize.themes import THEMES
from pipeline.tables.schemas import COLUMNS

# The roles the département × thème matrix counts: its `n_<role>` columns.
MATRIX_ROLES = [column.removeprefix("n_") for column in COLUMNS["department_theme_matrix"] if column.startswith("n_")]


def counted_ids(documents: pd.DataFrame) -> set[str]:
    """One current document per département: the one the aggregates count.

    Several current files of one département describe the same session
    (same date: a DOCX and its PDF export); counting each would double the
    département's statements. A complete file wins, then a native DOCX
    over a PDF export, then the first file name.
    """
    current = documents[documents["is_current"] == True]  # noqa: E712
    chosen: dict[str, tuple[tuple[bool, bool, str], str]] = {}
    for _, row in current.iterrows():
        key = row["departement_code"] if row["departement_code"] else "doc:" + row["document_id"]
        rank = (row["status"] != "ok", row["format"] != "docx", row["source_file"])
        if key not in chosen or rank < chosen[key][0]:
            chosen[key] = (rank, row["document_id"])
    return {document_id for _, document_id in chosen.values()}


def _departement_key(frame: pd.DataFrame) -> pd.Series:
    """The département, or the document itself when its département is unknown."""
    return frame["departement_code"].where(frame["departement_code"].notna(), "doc:" + frame["document_id"])


def counted(frame: pd.DataFrame, documents: pd.DataFrame) -> pd.DataFrame:
    """The rows of the counted documents, with a département key `dep`."""
    kept = frame[frame["document_id"].isin(counted_ids(documents))].copy()
    kept["dep"] = _departement_key(kept)
    return kept


def theme_summary(documents: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    items = counted(items, documents)
    if items.empty:
        return pd.DataFrame(columns=COLUMNS["theme_summary"])
    grouped = items.groupby(["theme", "role"]).agg(n_items=("item_id", "size"), n_departements=("dep", "nunique"))
    return grouped.reset_index().sort_values(["theme", "role"])[COLUMNS["theme_summary"]]


def category_summary(documents: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    n_current = len(counted_ids(documents))
    items = counted(items, documents)
    classified = items[items["category"].notna()]
    rows = []
    for (theme, role, category), group in classified.groupby(["theme", "role", "category"]):
        n_deps = group["dep"].nunique()
        rows.append({
            "theme": theme, "role": role, "category": category, "n_items": len(group),
            "n_departements": n_deps,
            "share_departements": round(n_deps / n_current, 4) if n_current else 0.0,
            "examples": list(dict.fromkeys(group["text"]))[:3],
        })
    return pd.DataFrame(rows, columns=COLUMNS["category_summary"])


def department_theme_matrix(documents: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    counts = counted(items, documents).groupby(["document_id", "theme", "role"]).size()
    shown = documents[documents["document_id"].isin(counted_ids(documents))]
    rows = []
    for _, doc in shown.sort_values(["departement_code", "document_id"], na_position="last").iterrows():
        for theme in THEMES:
            row = {
                "departement_code": doc["departement_code"], "departement": doc["departement"],
                "academie": doc["academie"], "theme": theme,
            }
            for role in MATRIX_ROLES:
                row[f"n_{role}"] = int(counts.get((doc["document_id"], theme, role), 0))
            rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS["department_theme_matrix"])


def actors_summary(documents: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    exploded = counted(actions, documents).explode("acteurs").dropna(subset=["acteurs"])
    rows = []
    for actor, group in exploded.groupby("acteurs"):
        rows.append({
            "actor": actor, "n_actions": len(group), "n_departements": group["dep"].nunique(),
            "themes": sorted(set(group["theme"])),
        })
    frame = pd.DataFrame(rows, columns=COLUMNS["actors_summary"])
    return frame.sort_values(["n_actions", "actor"], ascending=[False, True]) if not frame.empty else frame


def participants_summary(documents: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    participants = counted(participants, documents)
    rows = []
    for category in PARTICIPANT_CATEGORIES:
        group = participants[participants["category"] == category]
        counts = group["count"].dropna()
        rows.append({
            "category": category,
            "n_departements_checked": int((group["checked"] == True).sum()),  # noqa: E712
            "total_count": int(counts.sum()) if not counts.empty else 0,
            "n_departements_count_missing": int(group["count"].isna().sum()),
        })
    return pd.DataFrame(rows, columns=COLUMNS["participants_summary"])
