"""Read an image-only PDF (a scan) into the same layout model as a text PDF.

Each page is rendered at its scan's own resolution (never below
MIN_DPI: Tesseract misreads small glyphs), analysed (deskew, ruling lines,
check boxes, bullets: `page_image`), read by Tesseract (`tesseract`), and its words
placed in the table grids by pdf_reader's own code, in PDF points. The
whole-document passes (running headers, wrapped lines, tables across
pages) are then the text PDF's, so the template parser cannot tell a scan
from a text PDF.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from pipeline.ingest.errors import RejectedFile
from pipeline.ingest.readers import tesseract
from pipeline.ingest.readers.page_image import (
    BULLET,
    POINTS_PER_INCH,
    SETTINGS,
    Mark,
    PageAnalysis,
    ScanSettings,
    analyse,
    paper_whitened,
)
from pipeline.ingest.readers.pdf_reader import (
    PlumberObject,
    _Page,
    centre,
    contains,
    inside_any,
    layout_from_pages,
    page_from_words,
    with_text_tables,
)
from pipeline.ingest.readers.text_tables import BBox, Carried, Grid, HeaderTest
from pipeline.ingest.readers.word_lines import word_lines
from pipeline.model import Layout

MIN_DPI = 200.0
MAX_DPI = 400.0  # a 600-dpi scan is read at 400: no better, much slower
# What one page costs at most, on top of the ordinary per-file deadline:
# Tesseract takes 4–7 s for a dense 200-dpi page on a quiet core.
SECONDS_PER_PAGE = 30.0
_DASHES_RE = re.compile(r"[-–—]{2,}")  # "-—": Tesseract's reading of one en dash
_BULLET_LOOKALIKES = set("+>»*°·•▶►_-–—~=|")
# Those that alone on their line are still a bullet: no rule or speck of noise reads as them.
_LONE_BULLET_LOOKALIKES = set("+>»*°·•▶►")
_OPENING_PREPOSITIONS = {"À", "A"}  # a statement's first word, never Tesseract's reading of "▶"
_NUMBER_RE = re.compile(r"[0-9Oo]+")  # "2O2O", or "O" after a colon: Tesseract's reading of zeros


@dataclass
class ScanLayout:
    layout: Layout
    confidence: float  # mean word confidence, 0–1


def read_scan(data: bytes, no_text: RejectedFile, header: HeaderTest | None = None,
              settings: ScanSettings = SETTINGS) -> ScanLayout:
    """OCR every page of an image-only PDF (its bytes: those the text
    reader read and the cache is keyed by). With `header`, a table drawn
    without vertical rules is rebuilt from its words, as in a text PDF.
    Raises `no_text` (the text reader's verdict) when no page holds an
    image or no word is read, and RejectedFile (`no_text_layer`) when
    Tesseract or its French model is missing."""
    pages: list[_Page] = []
    confidences: list[float] = []
    carried: Carried | None = None
    line_heights: list[float] = []
    document = pdfium.PdfDocument(data)
    try:
        dpis: list[float | None] = []
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
            if gray is None or dpi is None:  # a page without image (a blank separator) has nothing to read
                pages.append(page_from_words(index + 1, height_pt, [], []))
                continue
            analysis = analyse(gray, dpi, settings)
            # No word at all: a nearly blank page of a grainy scan, read again on white paper.
            words = (tesseract.recognise(analysis.for_ocr)
                     or tesseract.recognise(paper_whitened(analysis.for_ocr, settings)))
            confidences.extend(word.confidence for word in words)
            placed = _plumber_words(words, analysis, dpi, settings, line_heights)
            grids = analysis.grids
            if header is not None:
                grids, carried = _with_text_tables(placed, analysis, height_pt, header, carried)
            pages.append(page_from_words(index + 1, height_pt, placed, grids))
    finally:
        document.close()
    if not confidences:
        raise no_text
    return ScanLayout(layout=layout_from_pages(pages), confidence=round(statistics.fmean(confidences), 3))


def _with_text_tables(words: list[PlumberObject], analysis: PageAnalysis, height: float, header: HeaderTest,
                      carried: Carried | None) -> tuple[list[Grid], Carried | None]:
    """The page's grids, those of its tables without vertical rules
    rebuilt from its words. A grid of one row is a header row when the
    words in its cells name a table's columns."""
    def cell_text(cell: BBox | None) -> str:
        inside = [w for w in words if cell and contains(cell, centre(w))]
        return " ".join(w["text"] for line in word_lines(inside) for w in line)

    header_rows = [grid for grid in analysis.grids
                   if len(grid[1]) == 1 and header([cell_text(cell) for cell in grid[1][0]])]

    def outside(ruled: list[Grid]) -> list[PlumberObject]:
        return [w for w in words if not inside_any(w, ruled)]

    return with_text_tables(analysis.grids, header_rows, outside, analysis.rules, height, header, carried)


def _scan_dpi(page: pdfium.PdfPage) -> float | None:
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
                   settings: ScanSettings, line_heights: list[float]) -> list[PlumberObject]:
    """OCR words, decided check boxes and bullets as pdfplumber words, in points.

    A word's top and bottom are its line's, so that words of one line stay
    one line whatever their letters. Tesseract's line boxes grow and shrink
    with accents, parentheses and descenders (a line's capital É reaches
    into the line above), and the paragraph rebuilder reads a size change
    or overlapping lines as a new paragraph: so a body line is given a
    share of the usual line height, centred on its box, as its
    height, and that height itself as its size; only a title's line keeps
    its own (`_title_sizes`): much taller than usual, and so are most of
    its words' boxes (one word's box can be as tall in body text). A line of a
    table without rules whose columns sit a little apart in height is as
    tall, of body letters: Tesseract reads the row's columns as one line.

    The usual height is that of the document's lines so far, in points
    (`line_heights`, extended here), not the page's own: a page that holds
    only the end of a table, three lines, would give its lines another
    size than the page before, and a table carried over is known by its
    lines' size.
    """
    scale = POINTS_PER_INCH / dpi
    line_heights.extend((w.line_bottom - w.line_top) * scale for w in words)
    usual = statistics.median(line_heights) / scale if line_heights else 0.0
    heights: dict[tuple[int, int, int], list[int]] = {}
    for w in words:
        heights.setdefault(w.line, []).append(w.height)
    letters = {line: statistics.median(values) for line, values in heights.items()}
    usual_letters = statistics.median(letters.values()) if letters else 0.0

    titles = _title_sizes(words, letters, usual, usual_letters, settings)

    def word(text: str, left: float, right: float, line: tesseract.OcrWord | None,
             top: float, bottom: float) -> PlumberObject:
        size = titles.get(line.line) if line is not None else None
        if size is None:
            middle, half = (top + bottom) / 2, settings.body_line_share * usual / 2
            top, bottom = middle - half, middle + half
            size = settings.body_size_share * usual
        return {"text": text, "x0": left * scale, "x1": right * scale, "top": top * scale,
                "bottom": bottom * scale, "size": round(size * scale, 1), "fontname": ""}

    texts = _cleaned_texts(words, _cell_walls(analysis, dpi), settings)
    plumber = [word(texts[i], w.left, w.left + w.width, w, w.line_top, w.line_bottom)
               for i, w in enumerate(words) if texts[i]]
    for mark in analysis.marks:
        line = _line_of(mark, words)
        top, bottom = (line.line_top, line.line_bottom) if line else (mark.top, mark.bottom + 1)
        plumber.append(word(mark.glyph, mark.left, mark.right + 1, line, top, bottom))
    return plumber


def _title_sizes(words: list[tesseract.OcrWord], letters: dict[tuple[int, int, int], float], usual: float,
                 usual_letters: float, settings: ScanSettings) -> dict[tuple[int, int, int], float]:
    """The size of each title line: its box's height.

    A title line is much taller than usual, and so are its letters; the
    line right below a title line whose letters are as tall, within
    `title_size_spread`, goes on with the title at its size. A box grows
    with accents and descenders ("#1 GARANTIR UN ÉGAL ACCÈS AU NUMÉRIQUE
    POUR" 48 px, "TOUS" 34 px, letters 34 px in both), and the paragraph
    rebuilder would read a size change, or "TOUS" as body text, as a new
    paragraph: a two-line fiche title cut in two, its first line the last
    besoin of the fiche above.
    """
    boxes = sorted({w.line: (w.line_top, w.line_bottom) for w in words}.items(), key=lambda kv: kv[1])
    sizes: dict[tuple[int, int, int], float] = {}
    above: tuple[float, float] | None = None  # the title line just above: its size and letters
    for line, (top, bottom) in boxes:
        box, height = float(bottom - top), letters[line]
        if above is not None and abs(height - above[1]) <= settings.title_size_spread * above[1]:
            sizes[line] = above[0]  # goes on with the title line above
        elif box >= settings.title_height_ratio * usual and height >= settings.title_height_ratio * usual_letters:
            sizes[line] = box
        above = (sizes[line], height) if line in sizes else None
    return sizes


def _line_of(mark: Mark, words: list[tesseract.OcrWord]) -> tesseract.OcrWord | None:
    """The word whose line a mark opens: the nearest on its right at its
    height, so that the mark and its text make one line (a bullet is
    shorter than its line, whose box holds the accents)."""
    middle = (mark.top + mark.bottom) / 2
    after = [w for w in words if w.line_top <= middle <= w.line_bottom and w.left > mark.right]
    return min(after, key=lambda w: w.left) if after else None


def _cell_walls(analysis: PageAnalysis, dpi: float) -> list[tuple[float, float, set[float]]]:
    """Each cell's vertical extent and its side walls, in pixels. A wall
    parts a line only within its own cell's height: a row of one cell
    across the table ("9 octobre 2020 - Lycée Jean Moulin - Tours") is
    not cut where the rows below have a column wall, which would make the
    dash after it open a run, read as a bullet."""
    scale = dpi / POINTS_PER_INCH
    return [(top * scale, bottom * scale, {left * scale, right * scale})
            for _, rows in analysis.grids for row in rows for cell in row if cell
            for left, top, right, bottom in [cell]]


def _cleaned_texts(words: list[tesseract.OcrWord], walls: list[tuple[float, float, set[float]]],
                   settings: ScanSettings) -> list[str]:
    """Each word's text, with Tesseract's readings of bullets and dashes
    undone ("" drops a word), and of zeros as the letter O in a number or
    after a colon ("Nombre de participants : O").

    A bullet opens a run of text: the start of a line, or of a stretch of it
    set apart by a table's cell wall or a column-wide gap (a table's
    columns share Tesseract's lines). The bullets the page image did not
    show as solid marks, Tesseract reads as symbols ("+ __", ">", "°_": the
    run's leading words made of bullet look-alikes only, or a bullet's
    symbol alone, which it may set on a line of its own) or, for "▶", as a
    narrow word ("BD") followed by a tab-wide gap. Either way it becomes
    one "•". Quotes and brackets are text, never bullets.
    """
    texts = [w.text for w in words]
    lines: dict[tuple[int, int, int], list[int]] = {}
    for i, word in enumerate(words):
        lines.setdefault(word.line, []).append(i)
        if _DASHES_RE.fullmatch(word.text):
            texts[i] = "–"
    for members in lines.values():
        members.sort(key=lambda i: words[i].left)
        for previous, i in zip([None, *members], members):
            after_colon = previous is not None and words[previous].text.endswith(":")
            if _NUMBER_RE.fullmatch(texts[i]) and (after_colon or any(ch.isdigit() for ch in texts[i])):
                texts[i] = texts[i].replace("O", "0").replace("o", "0")
        for run in _runs(words, members, walls, settings):
            symbols = 0
            while symbols < len(run) - 1 and set(words[run[symbols]].text) <= _BULLET_LOOKALIKES:
                symbols += 1
            if len(run) == 1 and set(words[run[0]].text) <= _LONE_BULLET_LOOKALIKES:
                symbols = 1  # Tesseract put the bullet on a line of its own, beside its text
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
    """A narrow first word set apart by a tab-wide gap ("BD" for "▶"); not
    a word in lower case before another ("à distance" opening a line of a
    justified column, whose spaces stretch as wide), nor a capital "À"
    before one ("À l'horizon 2025", "A terme", 6 pt apart in a scanned
    table cell: as wide as a tab after "▶")."""
    height = head.line_bottom - head.line_top
    gap = following.left - (head.left + head.width)
    if (head.text.islower() or head.text in _OPENING_PREPOSITIONS) and head.text.isalpha() \
            and following.text[:1].islower():
        return False
    return (head.width <= settings.bullet_max_width * height and gap >= settings.bullet_min_gap * height
            and not any(ch.isdigit() for ch in head.text))
