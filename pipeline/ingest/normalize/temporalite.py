"""Time frames ("Temporalité souhaitée") to `court`, `moyen`, `long`.

Seen from the autumn-2020 workshops: the explicit "court / moyen / long
terme" (and CT / MT / LT) wins; otherwise a horizon is read from what the
text gives — a duration ("dans les 6 mois", "d'ici 2 à 3 ans", "5 ans")
or a target year ("janvier 2021", "rentrée 2022", "à l'horizon 2025",
"2021-2022": the end counts). Up to one year ahead is short, up to three
is medium, beyond is long. "Non défini", "à compléter" and the like give
no code.
"""

from __future__ import annotations

import re

from pipeline.text import fold, strip_bullet

SHORT, MEDIUM, LONG = "court", "moyen", "long"
REFERENCE_YEAR = 2020

_EXPLICIT = [
    (re.compile(r"\bcourt[- ]terme\b|\bct\b|\bimmediat|\bdes maintenant|\bsans attendre|\burgen"), SHORT),
    (re.compile(r"\bmoyen[- ]terme\b|\bmt\b"), MEDIUM),
    (re.compile(r"\blong[- ]terme\b|\blt\b|\bstructurel|\bdans la duree\b|\bperenne|\bdurable"), LONG),
]
_UNDEFINED_RE = re.compile(r"\b(?:non (?:defini|renseigne|precise)|a (?:definir|completer|preciser)|inconnu)")
_DURATION_RE = re.compile(
    r"(\d+(?:[.,]\d+)?)(?:\s*(?:a|-|–)\s*(\d+))?\s*(ans?|annees?|mois|semaines?)\b"
)
_YEAR_RE = re.compile(r"\b(20[2-4]\d)\b")


def temporalite_code(raw: str) -> str | None:
    """The code of the first statement of a time-frame cell, or None."""
    first = next((strip_bullet(line) for line in raw.splitlines() if strip_bullet(line)), "")
    return classify(first)


def classify(text: str) -> str | None:
    folded = fold(text)
    if not folded:
        return None
    for pattern, code in _EXPLICIT:
        if pattern.search(folded):
            return code
    if _UNDEFINED_RE.search(folded):
        return None
    duration = _DURATION_RE.search(folded)
    if duration:
        amount = float((duration.group(2) or duration.group(1)).replace(",", "."))
        unit = duration.group(3)
        years = amount / 12 if unit.startswith("mois") else amount / 52 if unit.startswith("semaine") else amount
        return _by_years(years)
    stated = [int(y) for y in _YEAR_RE.findall(folded)]
    if stated:
        return _by_years(max(stated) - REFERENCE_YEAR)
    return None


def _by_years(years: float) -> str:
    if years <= 1:
        return SHORT
    if years <= 3:
        return MEDIUM
    return LONG
