"""Tesseract, through pytesseract: is it there, and the words of one page image.

Kept apart from the image analysis (OpenCV) so that asking whether OCR is
installed — the cache does, for every run — imports nothing heavy.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, cast

import pytesseract
from PIL import Image
from pytesseract import Output, TesseractError, TesseractNotFoundError

if TYPE_CHECKING:  # types only: this module imports nothing heavy
    import numpy as np

LANGUAGE = "fra"
# Page segmentation: automatic, without orientation detection (pages are
# upright; deskew has already removed the small tilt of a scanner).
_CONFIG = "--oem 1 --psm 3"
# A word alone in its block (a count right of "Nombre de participants :"),
# short and read with less confidence than this, is read again on its own
# as one line; a number read so with at least LONE_NUMBER_TRUST replaces
# it. Tesseract sets a lone digit apart as a block of its own and reads it
# from too little context ("4" as "ES", "6" as "Le)]", at 0.2–0.5); alone
# on one line it reads them at 0.96. Bullets and dashes read again give no
# trusted number and stay as they were.
LONE_WORD_DOUBT = 0.6
LONE_WORD_MAX_CHARS = 4
LONE_NUMBER_TRUST = 0.9
_LINE_CONFIG = "--oem 1 --psm 7"
# A line that stops at a colon while ink goes on within this many line
# heights to its right: Tesseract dropped the count written there ("Nombre
# de participants : 6" read without its "6"), or read it as a block of its
# own ("oO"). The line is read again whole, as one line (psm 7), and a
# number it then ends with, read with LONE_NUMBER_TRUST, is the count.
COLON_REACH = 2.0
# Darker than this (0–255) is ink: paper and its grain are far lighter.
INK_LEVEL = 128
# Files are already read one per core by the worker pool: Tesseract's own
# OpenMP threads would only fight them for the same cores.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

NOT_INSTALLED = (
    "Le PDF est numérisé (aucun texte) et la reconnaissance de caractères n'est pas installée "
    "sur ce serveur (Tesseract et son modèle français : paquets tesseract-ocr et tesseract-ocr-fra) : "
    "il ne peut pas être lu."
)


@dataclass(frozen=True)
class OcrWord:
    """One recognised word, in pixels of the image it was read from: its
    horizontal extent, its own height, and the vertical extent of its line."""

    text: str
    left: int
    width: int
    height: int  # of its letters: a title's are tall, whatever its line's box
    line: tuple[int, int, int]  # Tesseract's (block, paragraph, line) numbers
    line_top: int  # the box of the whole line: a word's own box depends on
    line_bottom: int  # its letters (ascenders, x-height), the line's does not
    confidence: float  # 0–1


@lru_cache(maxsize=1)
def engine() -> str | None:
    """Tesseract's version and French model, or None when either is missing."""
    try:
        version = pytesseract.get_tesseract_version()
        languages = pytesseract.get_languages(config="")
    except (TesseractNotFoundError, TesseractError, OSError):
        return None
    return f"tesseract {version} {LANGUAGE}" if LANGUAGE in languages else None


def recognise(image: np.ndarray) -> list[OcrWord]:
    """The words of a page image (a numpy array), with their boxes and confidences."""
    page = Image.fromarray(image)
    # pytesseract hands the image over in a temporary file, PNG unless told:
    # compressing a 200-dpi page costs 0.3 s, a third of a sparse page's OCR.
    page.format = "BMP"
    data = pytesseract.image_to_data(page, lang=LANGUAGE, config=_CONFIG, output_type=Output.DICT)
    line_boxes: dict[tuple[int, int, int], tuple[int, int]] = {}
    for i, level in enumerate(data["level"]):
        if level == 4:  # a text line
            key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
            line_boxes[key] = (data["top"][i], data["top"][i] + data["height"][i])
    words = []
    per_block = Counter(data["block_num"][i] for i, level in enumerate(data["level"])
                        if level == 5 and (data["text"][i] or "").strip())
    for i, text in enumerate(data["text"]):
        text = (text or "").strip()
        confidence = float(data["conf"][i])
        if data["level"][i] != 5 or not text or confidence < 0:
            continue
        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
        top, height = data["top"][i], data["height"][i]
        line_top, line_bottom = line_boxes.get(key, (top, top + height))
        if per_block[key[0]] == 1 and confidence < 100 * LONE_WORD_DOUBT and len(text) <= LONE_WORD_MAX_CHARS:
            text, confidence = _lone_number(image, data["left"][i], data["width"][i], line_top, line_bottom) \
                or (text, confidence)
        words.append(OcrWord(text=text, left=data["left"][i], width=data["width"][i], height=height, line=key,
                             line_top=line_top, line_bottom=line_bottom, confidence=confidence / 100.0))
    return _with_counts_after_colons(image, words)


def _with_counts_after_colons(image: np.ndarray, words: list[OcrWord]) -> list[OcrWord]:
    """`words`, with the number that each line stopping at a colon has on
    its right read again (COLON_REACH); a word of another line over that
    ink ("oO", read from it and the line below) is dropped."""
    lines: dict[tuple[int, int, int], list[OcrWord]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word)
    for key, members in lines.items():
        first = min(members, key=lambda w: w.left)
        last = max(members, key=lambda w: w.left)
        if not last.text.endswith(":"):
            continue
        top, bottom = last.line_top, last.line_bottom
        start = last.left + last.width
        band = image[top:bottom, start:start + round(COLON_REACH * (bottom - top))]
        inked = cast("np.ndarray", (band < INK_LEVEL).any(axis=0)).nonzero()[0]  # numpy's stubs: maybe a scalar
        if inked.size == 0:
            continue
        end = start + int(inked[-1]) + 1
        read = _read_as_line(image, first.left, end, top, bottom)
        if not read:
            continue
        tail, confidence = read[-1]
        text = tail.lstrip(":")  # read with its colon (":6") or after it
        after_colon = text != tail or (len(read) >= 2 and read[-2][0].endswith(":"))
        if not (after_colon and text.isdigit() and confidence >= 100 * LONE_NUMBER_TRUST):
            continue
        words = [w for w in words if w.line == key or not (
            start <= w.left + w.width / 2 <= end and w.line_top < bottom and top < w.line_bottom)]
        words.append(OcrWord(text=text, left=start, width=end - start, height=bottom - top, line=key,
                             line_top=top, line_bottom=bottom, confidence=confidence / 100.0))
    return words


def _lone_number(image: np.ndarray, left: int, width: int, top: int, bottom: int) -> tuple[str, float] | None:
    """The number a lone word's box holds, read again as one line, if Tesseract trusts it."""
    read = _read_as_line(image, left, left + width, top, bottom)
    if len(read) == 1 and read[0][0].isdigit() and read[0][1] >= 100 * LONE_NUMBER_TRUST:
        return read[0]
    return None


def _read_as_line(image: np.ndarray, left: int, right: int, top: int, bottom: int) -> list[tuple[str, float]]:
    """The words of a box, with their confidences (0–100), read again as
    one line with a margin around it: a quarter of the line's height
    aside, half above and below (not the colon before a lone word)."""
    height = bottom - top
    side = height // 4
    crop = image[max(top - height // 2, 0):bottom + height // 2, max(left - side, 0):right + side]
    data = pytesseract.image_to_data(Image.fromarray(crop), lang=LANGUAGE, config=_LINE_CONFIG,
                                     output_type=Output.DICT)
    return [(text.strip(), float(conf)) for text, conf in zip(data["text"], data["conf"]) if (text or "").strip()]
