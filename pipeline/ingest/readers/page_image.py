"""What a scanned page image says before any character is read: its tilt,
its tables' ruling lines, its check boxes and bullets (OpenCV).

Tesseract reads characters, not layout: it reads table rules as "|",
check boxes as "©", "[]" or nothing, solid bullets (▶ •) as ">", "+",
"BD" or nothing, and a tilted page mixes lines. So a page is first
deskewed, then its ruling lines are found by morphology (long thin runs
of ink) and handed to pdfplumber's own grid logic as explicit edges, its
check boxes decided by the ink inside each box, its solid bullets found by
their shape. Rules, boxes and bullets are then whited out of the image
Tesseract reads, and the boxes and bullets come back as glyphs (marks).

Sizes are in millimetres and converted at the page's resolution, so the
same settings hold for a 150-dpi fax and a 300-dpi scan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from pdfplumber.table import Table as _GridTable
from pdfplumber.table import cells_to_tables, edges_to_intersections, intersections_to_cells, merge_edges

from pipeline.ingest.readers.text_tables import horizontal_rules

if TYPE_CHECKING:  # types only: importing the PDF reader is left to its users
    from pipeline.ingest.readers.pdf_reader import PlumberObject
    from pipeline.ingest.readers.text_tables import BBox, Grid

MM_PER_INCH = 25.4
POINTS_PER_INCH = 72.0


@dataclass(frozen=True)
class ScanSettings:
    """Every threshold of the page-image analysis, in one place."""

    # Deskew: search ±max_skew at a coarse step, then finely around the best.
    max_skew_degrees: float = 5.0
    coarse_skew_step: float = 0.5
    fine_skew_step: float = 0.05
    min_skew_degrees: float = 0.05  # below this, rotating would only blur the page
    skew_analysis_width_px: int = 800  # the search runs on a reduced copy: tilt survives, cost does not
    # Ink: darker than its neighbourhood (this wide) by this many grey levels.
    # Local, so that faint thin rules count and grey noise does not.
    ink_window_mm: float = 4.0
    ink_contrast: int = 25
    # Ruling lines: ink runs at least this long (letters never are), gaps this short bridged.
    min_rule_mm: float = 8.0
    # A one-line table row is barely taller than this; a vertical run counts
    # only where it meets a horizontal rule (a heading's "P" never does).
    min_vertical_rule_mm: float = 4.0
    rule_gap_mm: float = 0.8
    rule_erase_margin_px: int = 2  # rules are whited out this much wider than detected
    # Paper: grey levels within this many standard deviations of the
    # page's median are made white when a page gives Tesseract no word
    # (ink is far darker).
    paper_grain_sigmas: float = 4.0
    edge_tolerance_pt: float = 3.0  # rules this close are one (pdfplumber's snap/join/intersection)
    # Check boxes: square outlines of this side, inked all round (corners too).
    box_min_mm: float = 2.0
    box_max_mm: float = 6.5
    box_max_aspect_gap: float = 0.2  # |width/height − 1|
    box_side_fill: float = 0.85  # share of each side of the outline that is ink ("U", "n" fail)
    # and every corner inked (a bold "B", "D" or "O" has round ones), from a
    # thin stroke: just inside each side, at most this share is ink (a bold
    # "B" has a thick stem; a ☒'s cross only passes through)
    box_inner_strip_max: float = 0.6
    box_border_fraction: float = 0.18  # ring width, as a share of the side
    checked_ink: float = 0.10  # ink share inside the ring that makes a box checked (a bold ☒ reaches 0.6)
    filled_ink: float = 0.90  # above: a filled square (a bullet), not a box
    # Solid bullets (▶ • ■): a blob of this size, this much of its box inked
    # (a triangle half, a disc 0.79), its core all ink (unlike "o", "e"),
    # with nothing just left of it (unlike a full stop) nor just below it
    # (unlike the dot of a bold "i" or "j"), and no twin blob stacked on it
    # (unlike either dot of a colon).
    bullet_min_mm: float = 0.8
    bullet_max_mm: float = 3.0
    bullet_max_aspect: float = 1.8  # longer side over shorter side
    bullet_min_fill: float = 0.45
    bullet_core_fill: float = 0.95  # of the middle third of the blob
    bullet_clear_left: float = 1.5  # blob widths free of ink to its left
    bullet_clear_below: float = 1.0  # blob heights free of ink below it
    bullet_twin_distance: float = 3.0  # in blob heights: a colon's dots are closer
    # Word layout: a line this many times the page's usual line height is a
    # title; any other line is body text, of one size, its box this share of
    # the usual height (Tesseract's boxes hold accents and descenders, so
    # consecutive lines' boxes overlap in dense text).
    title_height_ratio: float = 1.5
    # The line below a title line whose letters are as tall, within this
    # share, goes on with the title, at its size (`ocr._title_sizes`).
    title_size_spread: float = 0.1
    body_line_share: float = 0.8
    # A body line's size (the unit of the paragraph rules: the blank that
    # separates paragraphs, a space's width) is the usual height itself:
    # Tesseract's line box spans about an em, as a text PDF's font size
    # does. Its shrunk box as size made the lines of a cell set 1.5-spaced
    # look like separate paragraphs, cutting statements in two.
    body_size_share: float = 1.0
    # A bullet (▶ • ◦, which Tesseract reads as ">", "»", "+", "°", "BD"…): a line's
    # first word no wider than this many line heights, then a gap this wide.
    bullet_max_width: float = 1.0
    bullet_min_gap: float = 0.6
    column_gap: float = 2.0  # in line heights: a wider gap inside a line separates columns


SETTINGS = ScanSettings()


CHECKED, UNCHECKED, BULLET = "☒", "☐", "•"


@dataclass(frozen=True)
class Mark:
    """A check box or a bullet, in pixels of the deskewed page, and the
    glyph it stands for: ☒, ☐ or •."""

    left: int
    top: int
    right: int
    bottom: int
    glyph: str


@dataclass(frozen=True)
class PageAnalysis:
    """A deskewed page: the image Tesseract should read (rules and marks
    whited out), its table grids and horizontal rules in points, its marks
    in pixels."""

    for_ocr: np.ndarray
    skew_degrees: float
    grids: list[Grid]
    rules: list[BBox]  # horizontal: a table without vertical rules may still separate its rows
    marks: list[Mark]


def analyse(gray: np.ndarray, dpi: float, settings: ScanSettings = SETTINGS) -> PageAnalysis:
    angle = skew_angle(gray, settings)
    if abs(angle) >= settings.min_skew_degrees:
        gray = _rotate(gray, angle)
    window = _px(settings.ink_window_mm, dpi) | 1  # odd, as OpenCV wants
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, window,
                                settings.ink_contrast)
    horizontal, vertical = _rules(ink, dpi, settings)
    rules = cv2.bitwise_or(horizontal, vertical)
    # A pixel's margin around the rules too: a box drawn against a row's
    # rule would otherwise stay joined to it by the rule's blurred edge.
    text_ink = cv2.bitwise_and(ink, cv2.bitwise_not(cv2.dilate(rules, np.ones((3, 3), np.uint8))))
    marks = _check_boxes(text_ink, dpi, settings) + _bullets(text_ink, dpi, settings)
    scale = POINTS_PER_INCH / dpi
    edges = _edges(horizontal, "h", scale) + _edges(vertical, "v", scale)
    for_ocr = gray.copy()
    margin = settings.rule_erase_margin_px
    for_ocr[cv2.dilate(rules, np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)) > 0] = 255
    for mark in marks:
        for_ocr[max(mark.top - margin, 0):mark.bottom + margin + 1, max(mark.left - margin, 0):mark.right + margin + 1] = 255
    return PageAnalysis(for_ocr=for_ocr, skew_degrees=angle, grids=_grids(edges, settings),
                        rules=horizontal_rules(edges),
                        marks=marks)


def paper_whitened(gray: np.ndarray, settings: ScanSettings = SETTINGS) -> np.ndarray:
    """The page with its paper made white: every pixel within the paper's
    own grain of its level (the page's median, spread measured by the
    median absolute deviation). Tesseract binarises a page as a whole: on a
    nearly blank page of a grainy scan (a table's last row carried over)
    its threshold falls inside the grain, and the few words there are lost
    in the speckle it makes. Only for such a page: Tesseract recognises
    letters from the grey image, whose soft edges this would cut."""
    paper = float(np.median(gray))
    grain = 1.4826 * float(np.median(np.abs(gray.astype(np.float32) - paper)))  # one standard deviation
    whitened = gray.copy()
    whitened[gray >= paper - settings.paper_grain_sigmas * max(grain, 1.0)] = 255
    return whitened


def skew_angle(gray: np.ndarray, settings: ScanSettings = SETTINGS) -> float:
    """The page's tilt in degrees (counter-clockwise positive): the rotation
    that makes its text lines and rules most horizontal, i.e. that
    maximises the variance of the ink's row profile."""
    factor = min(1.0, settings.skew_analysis_width_px / gray.shape[1])
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)

    def sharpness(angle: float) -> float:
        return float(np.var(_rotate(ink, angle, fill=0).sum(axis=1, dtype=np.float64)))

    def best(centre: float, half_width: float, step: float) -> float:
        candidates = np.arange(centre - half_width, centre + half_width + step / 2, step)
        return float(max(candidates, key=sharpness))

    coarse = best(0.0, settings.max_skew_degrees, settings.coarse_skew_step)
    return round(best(coarse, settings.coarse_skew_step, settings.fine_skew_step), 3)


def _rotate(image: np.ndarray, angle: float, fill: int = 255) -> np.ndarray:
    """Rotate by −angle around the centre: undo a tilt of `angle` degrees."""
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), -angle, 1.0)
    return cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=fill)


def _px(mm: float, dpi: float) -> int:
    return max(1, round(mm * dpi / MM_PER_INCH))


def _rules(ink: np.ndarray, dpi: float, settings: ScanSettings) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the horizontal and vertical ruling lines: what survives an
    opening by a long thin kernel (letters are never that long), then
    closed over the short gaps that noise and JPEG cut in a line; vertical
    runs only where they meet a horizontal one."""
    length, height = _px(settings.min_rule_mm, dpi), _px(settings.min_vertical_rule_mm, dpi)
    gap = _px(settings.rule_gap_mm, dpi)
    masks = []
    for kernel_shape, gap_shape in (((length, 1), (gap, 1)), ((1, height), (1, gap))):
        opened = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, kernel_shape))
        masks.append(cv2.morphologyEx(opened, cv2.MORPH_CLOSE,
                                      cv2.getStructuringElement(cv2.MORPH_RECT, gap_shape)))
    horizontal, vertical = masks
    reach = cv2.dilate(horizontal, np.ones((2 * gap + 1, 2 * gap + 1), np.uint8))
    count, labels = cv2.connectedComponents(vertical, connectivity=8)
    meeting = np.unique(labels[(reach > 0) & (vertical > 0)])
    vertical = np.where(np.isin(labels, meeting[meeting > 0]), 255, 0).astype(np.uint8)
    return horizontal, vertical


def _edges(mask: np.ndarray, orientation: str, scale: float) -> list[PlumberObject]:
    """Each ruling line as a pdfplumber edge (points, top-left origin)."""
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    edges: list[PlumberObject] = []
    for left, top, width, height, _ in stats[1:count]:
        x0, x1 = left * scale, (left + width) * scale
        y0, y1 = top * scale, (top + height) * scale
        if orientation == "h":
            y = (y0 + y1) / 2
            edges.append({"x0": x0, "x1": x1, "top": y, "bottom": y, "width": x1 - x0, "height": 0.0,
                          "orientation": "h", "object_type": "line"})
        else:
            x = (x0 + x1) / 2
            edges.append({"x0": x, "x1": x, "top": y0, "bottom": y1, "width": 0.0, "height": y1 - y0,
                          "orientation": "v", "object_type": "line"})
    return edges


def _grids(edges: list[PlumberObject], settings: ScanSettings) -> list[Grid]:
    """Tables as pdfplumber finds them from explicit lines: (bbox, rows of cell bboxes)."""
    tolerance = settings.edge_tolerance_pt
    merged = merge_edges(edges, tolerance, tolerance, tolerance, tolerance)
    cells = intersections_to_cells(edges_to_intersections(merged, tolerance, tolerance))
    grids: list[Grid] = []
    for table_cells in cells_to_tables(cells):
        # pdfplumber's Table wants its page, used only to extract text: its
        # bbox and rows need none (the page image is not a pdfplumber page).
        table = _GridTable(None, table_cells)  # type: ignore[arg-type]
        grids.append((table.bbox, [row.cells for row in table.rows]))
    grids.sort(key=lambda grid: grid[0][1])
    return grids


def _check_boxes(ink: np.ndarray, dpi: float, settings: ScanSettings) -> list[Mark]:
    """Square outlines of a check box's size, each decided by its inside's ink."""
    smallest, largest = _px(settings.box_min_mm, dpi), _px(settings.box_max_mm, dpi)
    contours, _ = cv2.findContours(ink, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours:
        left, top, width, height = cv2.boundingRect(contour)
        if not (smallest <= width <= largest and smallest <= height <= largest):
            continue
        if abs(width / height - 1) > settings.box_max_aspect_gap:
            continue
        patch = ink[top:top + height, left:left + width] > 0
        ring = max(1, round(settings.box_border_fraction * min(width, height)))
        sides = [patch[:ring, :].any(axis=0), patch[-ring:, :].any(axis=0),
                 patch[:, :ring].any(axis=1), patch[:, -ring:].any(axis=1)]
        corners = [patch[:ring, :ring], patch[:ring, -ring:], patch[-ring:, :ring], patch[-ring:, -ring:]]
        if min(side.mean() for side in sides) < settings.box_side_fill or not all(c.any() for c in corners):
            continue
        strips = [patch[ring:2 * ring, ring:-ring], patch[-2 * ring:-ring, ring:-ring],
                  patch[ring:-ring, ring:2 * ring], patch[ring:-ring, -2 * ring:-ring]]
        if max(strip.mean() if strip.size else 1.0 for strip in strips) > settings.box_inner_strip_max:
            continue
        inside = patch[ring:-ring, ring:-ring]
        filling = float(inside.mean()) if inside.size else 0.0
        if filling > settings.filled_ink:
            continue
        boxes.append(Mark(left=left, top=top, right=left + width - 1, bottom=top + height - 1,
                          glyph=CHECKED if filling >= settings.checked_ink else UNCHECKED))
    return boxes


def _bullets(ink: np.ndarray, dpi: float, settings: ScanSettings) -> list[Mark]:
    """Solid blobs of a bullet's size and shape, first on their line."""
    smallest, largest = _px(settings.bullet_min_mm, dpi), _px(settings.bullet_max_mm, dpi)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    solid, bullets = [], []
    for label in range(1, count):
        left, top, width, height, area = stats[label]
        if not (smallest <= width <= largest and smallest <= height <= largest):
            continue
        if max(width, height) / min(width, height) > settings.bullet_max_aspect:
            continue
        if area < settings.bullet_min_fill * width * height:
            continue
        blob = labels[top:top + height, left:left + width] == label
        core = blob[height // 3:height - height // 3, width // 3:width - width // 3]
        if core.size == 0 or core.mean() < settings.bullet_core_fill:
            continue
        blob_mark = Mark(left=left, top=top, right=left + width - 1, bottom=top + height - 1, glyph=BULLET)
        solid.append(blob_mark)
        clear = max(0, left - round(settings.bullet_clear_left * width))
        below = top + height + round(settings.bullet_clear_below * height)
        if ink[top:top + height, clear:left].any() or ink[top + height:below, left:left + width].any():
            continue
        bullets.append(blob_mark)

    def stacked(a: Mark, b: Mark) -> bool:
        reach = settings.bullet_twin_distance * (a.bottom - a.top + 1)
        return a is not b and a.left <= b.right and b.left <= a.right and abs(a.top - b.top) <= reach

    return [a for a in bullets if not any(stacked(a, b) for b in solid)]
