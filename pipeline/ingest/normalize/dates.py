"""Session dates, as French authors write them, to ISO 8601.

"Mercredi 14 octobre 2020 – Lycée Bellevue", "Le 27 octobre 2020, Collège…",
"14/10/2020", "les 5 et 6 novembre 2020", "du 5 au 6 nov. 2020": the first
day wins, and whatever follows the date is the session's place.
"""

from __future__ import annotations

import re
from datetime import date

from pipeline.text import fold

_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3, "avril": 4,
    "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7, "aout": 8, "septembre": 9, "sept": 9,
    "sep": 9, "octobre": 10, "oct": 10, "novembre": 11, "nov": 11, "decembre": 12, "dec": 12,
}
_MONTH_ALT = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = r"(1er|[0-3]?\d)"
# "5 et 6 novembre 2020", "du 5 au 6 novembre", "5-6 novembre", "5 novembre 2020"
_LONG_RE = re.compile(
    rf"\b{_DAY}(?:\s*(?:et|au|a|-|–|/|&)\s*(?:le\s+)?{_DAY})*\s+({_MONTH_ALT})\.?(?:\s+(\d{{4}}))?"
)
_NUMERIC_RE = re.compile(r"\b([0-3]?\d)[/.-]([01]?\d)[/.-](\d{4}|\d{2})\b")
_ISO_RE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_LEADING_SEPARATORS = " \t-–—,;:.|/"
DEFAULT_YEAR = 2020


def parse_date_place(text: str) -> tuple[str | None, str | None]:
    """(ISO date of the first day, place written after the date)."""
    if not text or not text.strip():
        return None, None
    flat = " ".join(text.split())
    folded = fold(flat)
    found = _find_date(folded)
    if found is None:
        return None, flat.strip(_LEADING_SEPARATORS) or None
    iso, end = found
    # fold() keeps one character per character for the Latin text met here,
    # so an offset in the folded string is an offset in the original.
    place = flat[end:].strip(_LEADING_SEPARATORS) if len(folded) == len(flat) else None
    return iso, place or None


def _find_date(folded: str) -> tuple[str, int] | None:
    for match in _ISO_RE.finditer(folded):
        iso = _iso(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if iso:
            return iso, match.end()
    for match in _LONG_RE.finditer(folded):
        day = 1 if match.group(1) == "1er" else int(match.group(1))
        month = _MONTHS[match.group(3)]
        year = int(match.group(4)) if match.group(4) else DEFAULT_YEAR
        iso = _iso(year, month, day)
        if iso:
            return iso, match.end()
    for match in _NUMERIC_RE.finditer(folded):
        year = int(match.group(3))
        year = year + 2000 if year < 100 else year
        iso = _iso(year, int(match.group(2)), int(match.group(1)))
        if iso:
            return iso, match.end()
    return None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None
