"""Read an image-only PDF (a scan) into the same layout model as a text PDF.

Each page is rendered at its scan's own resolution (never below
MIN_DPI: Tesseract misreads small glyphs), analysed (deskew, ruling lines,
check boxes: `page_image`), read by Tesseract (`tesseract`), and its words
placed in the table grids by pdf_reader's own code, in PDF points. The
whole-document passes (running headers, wrapped lines, tables across
pages) are then the text PDF's, so the template parser cannot tell a scan
from a text PDF.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.errors import RejectedFile
from pipeline.model import Layout
from pipeline.readers import tesseract
from pipeline.readers.page_image import POINTS_PER_INCH, SETTINGS, PageAnalysis, ScanSettings, analyse
from pipeline.readers.pdf_reader import layout_from_pages, page_from_words

MIN_DPI = 200.0
MAX_DPI = 400.0  # a 600-dpi scan is read at 400: no better, much slower
# What one page costs at most, on top of the ordinary per-file deadline:
# Tesseract takes 4–7 s for a dense 200-dpi page on a quiet core.
SECONDS_PER_PAGE = 30.0
CHECKED, UNCHECKED, BULLET = "☒", "☐", "•"
_DASHES_RE = re.compile(r"[-–—]{2,}")  # "-—": Tesseract's reading of one en dash


@dataclass
class ScanLayout:
    layout: Layout
    confidence: float  # mean word confidence, 0–1


def read_scan(path: Path, no_text: RejectedFile, settings: ScanSettings = SETTINGS) -> ScanLayout:
    """OCR every page of an image-only PDF. Raises `no_text` (the text
    reader's verdict) when no page holds an image or no word is read, and
    RejectedFile (`no_text_layer`) when Tesseract or its French model is
    missing."""
    pages, confidences = [], []
    document = pdfium.PdfDocument(str(path))
    try:
        dpis = []
        for index in range(len(document)):
            page = document[index]
            try:
                dpis.append(_scan_dpi(page))
            finally:
                page.close()
        if not any(dpis):
            raise no_text  # blank pages: nothing to recognise
        if tesseract.engine() is None:
            raise RejectedFile("no_text_layer", tesseract.NOT_INSTALLED)
        for index in range(len(document)):
            page = document[index]
            try:
                _, height_pt = page.get_size()
                dpi = dpis[index]
                gray = page.render(scale=dpi / POINTS_PER_INCH, grayscale=True).to_numpy() if dpi else None
            finally:
                page.close()
            if gray is None:  # a page without image (a blank separator) has nothing to read
                pages.append(page_from_words(index + 1, height_pt, [], []))
                continue
            analysis = analyse(gray, dpi, settings)
            words = tesseract.recognise(analysis.for_ocr)
            confidences.extend(word.confidence for word in words)
            pages.append(page_from_words(index + 1, height_pt, _plumber_words(words, analysis, dpi, settings),
                                         analysis.grids))
    finally:
        document.close()
    if not confidences:
        raise no_text
    return ScanLayout(layout=layout_from_pages(pages), confidence=round(statistics.fmean(confidences), 3))


def _scan_dpi(page) -> float | None:
    """The resolution to read a page at: its largest image's (the scan
    itself), within MIN_DPI–MAX_DPI; None when the page has no image."""
    best_px, best_pt = 0, 0.0
    for image in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):
        left, _, right, _ = image.get_bounds()
        px_width, _ = image.get_px_size()
        if px_width > best_px and right - left > 0:
            best_px, best_pt = px_width, right - left
    if not best_px:
        return None
    return min(max(best_px / (best_pt / POINTS_PER_INCH), MIN_DPI), MAX_DPI)


def _plumber_words(words: list[tesseract.OcrWord], analysis: PageAnalysis, dpi: float,
                   settings: ScanSettings) -> list[dict]:
    """OCR words and decided check boxes as pdfplumber words, in points.

    A word's top and bottom are its line's, so that words of one line stay
    one line whatever their letters. A word's size is its line's height,
    snapped to the page's usual height when close to it: line boxes grow
    with ascenders and descenders, and the paragraph rebuilder takes a
    size change for a new paragraph.
    """
    scale = POINTS_PER_INCH / dpi
    usual = statistics.median([w.line_bottom - w.line_top for w in words]) if words else 0.0

    def size(height: float) -> float:
        if usual and abs(height - usual) <= settings.same_size_tolerance * usual:
            height = usual
        return round(height * scale, 1)

    texts = _cleaned_texts(words, _cell_walls(analysis, dpi), settings)
    plumber = [
        {"text": texts[i], "x0": w.left * scale, "x1": (w.left + w.width) * scale,
         "top": w.line_top * scale, "bottom": w.line_bottom * scale, "size": size(w.line_bottom - w.line_top),
         "fontname": ""}
        for i, w in enumerate(words) if texts[i]
    ]
    for box in analysis.boxes:
        plumber.append({"text": CHECKED if box.checked else UNCHECKED, "x0": box.left * scale,
                        "x1": (box.right + 1) * scale, "top": box.top * scale,
                        "bottom": (box.bottom + 1) * scale, "size": size(box.bottom - box.top + 1),
                        "fontname": ""})
    return plumber


def _cell_walls(analysis: PageAnalysis, dpi: float) -> list[tuple[float, float, set[float]]]:
    """Each table's vertical extent and its cells' side walls, in pixels."""
    scale = dpi / POINTS_PER_INCH
    walls = []
    for (_, top, _, bottom), rows in analysis.grids:
        sides = {x * scale for row in rows for cell in row if cell for x in (cell[0], cell[2])}
        walls.append((top * scale, bottom * scale, sides))
    return walls


def _cleaned_texts(words: list[tesseract.OcrWord], walls: list[tuple[float, float, set[float]]],
                   settings: ScanSettings) -> list[str]:
    """Each word's text, with Tesseract's readings of bullets and dashes
    undone ("" drops a word).

    A bullet opens a run of text: the start of a line, or of a stretch of it
    set apart by a table's cell wall or a column-wide gap (a table's
    columns share Tesseract's lines). Tesseract reads it as symbols ("+ __", ">", "°_") — the run's
    leading words without a letter or digit — or, for "▶", as a narrow word
    ("BD") followed by a tab-wide gap. Either way it becomes one "•".
    """
    texts = [w.text for w in words]
    lines: dict[tuple[int, int, int], list[int]] = {}
    for i, word in enumerate(words):
        lines.setdefault(word.line, []).append(i)
        if _DASHES_RE.fullmatch(word.text):
            texts[i] = "–"
    for members in lines.values():
        members.sort(key=lambda i: words[i].left)
        for run in _runs(words, members, walls, settings):
            symbols = 0
            while symbols < len(run) - 1 and not any(ch.isalnum() for ch in words[run[symbols]].text):
                symbols += 1
            if symbols:
                texts[run[0]] = BULLET
                for i in run[1:symbols]:
                    texts[i] = ""
            elif len(run) > 1 and _looks_like_bullet(words[run[0]], words[run[1]], settings):
                texts[run[0]] = BULLET
            if symbols < len(run):
                texts[run[symbols]] = texts[run[symbols]].lstrip("_") or texts[run[symbols]]
    return texts


def _runs(words: list[tesseract.OcrWord], members: list[int], walls: list[tuple[float, float, set[float]]],
          settings: ScanSettings) -> list[list[int]]:
    """A line's words (left to right) split where a cell wall or a column-wide gap separates them."""
    runs: list[list[int]] = []
    for i in members:
        word = words[i]
        height = word.line_bottom - word.line_top
        middle = (word.line_top + word.line_bottom) / 2
        if runs:
            previous = words[runs[-1][-1]]
            end = previous.left + previous.width
            walled = any(top <= middle <= bottom and any(end <= x <= word.left for x in sides)
                         for top, bottom, sides in walls)
            if not walled and word.left - end <= settings.column_gap * height:
                runs[-1].append(i)
                continue
        runs.append([i])
    return runs


def _looks_like_bullet(head: tesseract.OcrWord, following: tesseract.OcrWord, settings: ScanSettings) -> bool:
    height = head.line_bottom - head.line_top
    gap = following.left - (head.left + head.width)
    return (head.width <= settings.bullet_max_width * height and gap >= settings.bullet_min_gap * height
            and not any(ch.isdigit() for ch in head.text))
