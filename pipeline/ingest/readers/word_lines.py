"""Words into visual lines: those whose tops are within a line tolerance,
left to right. One grouping for the PDF reader's page lines and for the
rebuilt tables' lines (`text_tables.py`), so both see the same lines."""

from __future__ import annotations

from typing import Any

from pipeline.ingest.readers.pdf_settings import SETTINGS

# A pdfplumber word, or an OCR word in the same shape (x0, x1, top, bottom, text, size…).
Word = dict[str, Any]


def word_lines(words: list[Word]) -> list[list[Word]]:
    """The words in lines, top to bottom, each left to right."""
    grouped: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (round(w["top"]), w["x0"])):
        if grouped and abs(word["top"] - grouped[-1][0]["top"]) <= SETTINGS.line_tolerance_pt:
            grouped[-1].append(word)
        else:
            grouped.append([word])
    return [sorted(group, key=lambda w: w["x0"]) for group in grouped]


def line_size(words: list[Word]) -> float:
    """A line's font size: its longest word's (a bullet glyph may be larger)."""
    size: float = max(words, key=lambda w: len(w["text"]))["size"]
    return size
