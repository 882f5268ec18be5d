"""Resolve a theme label, however it is written, to one of the five codes.

Three rules, tried in order, each with its own confidence:
1. keywords (accent-free word stems, abbreviations by prefix): the label
   names the theme's own words — "Gouvernance et anticipation",
   "UN NUMÉRIQUE RESPONSABLE", "Trav. ensemble";
2. fuzzy match (rapidfuzz) against the official labels and their usual
   short forms, for typos — "Gouvernnance et antcipation"; a label that
   two themes match as well ("NUMÉRIQUE", a word of four labels) names
   neither;
3. a bare number — "#3", "Thème 2" — in the preamble's order, which the
   contract makes the default (the RETEX paragraph's other order applies
   only where a document says so).
A label that none of them resolves is `inconnu`, confidence 0: the caller
quarantines it rather than guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from pipeline.text import fold

UNKNOWN = "inconnu"

THEMES: dict[str, str] = {
    "acces": "Garantir un égal accès au numérique pour tous",
    "travailler_ensemble": "Travailler ensemble autrement",
    "gouvernance": "Mettre en place de nouvelles formes de gouvernance et de nouveaux outils d'anticipation",
    "responsable_souverain": "Favoriser le développement d'un numérique responsable et souverain",
    "enseigner_apprendre": "Enseigner et apprendre avec le numérique",
}
PREAMBLE_ORDER = list(THEMES)

# Word stems proper to each theme (folded). A label's words are matched by
# prefix so that abbreviations ("gouv.", "resp.") count.
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "acces": ("egal", "acces", "fracture", "equite", "inclusi", "egalite"),
    "travailler_ensemble": ("travailler", "travail", "ensemble", "autrement", "culture", "professionnelle"),
    "gouvernance": ("gouvernance", "gouvernances", "anticipation", "anticiper", "pilotage"),
    "responsable_souverain": ("responsable", "souverain", "souverainete", "ethique", "durable"),
    "enseigner_apprendre": ("enseigner", "apprendre", "enseignement", "apprentissage", "pedagogie"),
}
_ALIASES: dict[str, tuple[str, ...]] = {
    code: (label, *extra)
    for code, label, *extra in [
        ("acces", THEMES["acces"], "Un égal accès au numérique pour tous", "La fracture numérique"),
        ("travailler_ensemble", THEMES["travailler_ensemble"], "Culture numérique professionnelle commune"),
        ("gouvernance", THEMES["gouvernance"], "Gouvernance et anticipation", "Nouvelles formes de gouvernance"),
        ("responsable_souverain", THEMES["responsable_souverain"], "Un numérique responsable et souverain"),
        ("enseigner_apprendre", THEMES["enseigner_apprendre"], "Enseigner et apprendre"),
    ]
}
_ALIAS_CHOICES = [(fold(alias), code) for code, aliases in _ALIASES.items() for alias in aliases]
_NUMBER_RE = re.compile(r"(?:#|\bth[eè]me\b|\bthematique\b|\baxe\b|\bn°)\s*([1-5])\b|^\(?([1-5])\s*[).:-]?\s*$|^\(?([1-5])[).]\s")
_WORD_RE = re.compile(r"[a-z]+")
_FUZZY_THRESHOLD = 80
# Fuzzy scores (0–100) of two themes' best aliases closer than this are a
# tie. A word common to several labels scores the same in each (WRatio
# scores a word found inside a label 90, whichever the label): a label
# cut to its last word, "NUMÉRIQUE" (a theme cell split by a page break),
# would otherwise take the first theme listed; a typo of one label beats
# the others by 10 points and more.
_FUZZY_TIE_MARGIN = 2.0
# A theme named on a line of its own is a label, not a sentence: the
# longest official label has 13 words, a number and a short form added.
MAX_LABEL_WORDS = 20
# The rules' names (ThemeMatch.rule, shown to analysts).
_KEYWORD_RULE = "mots-clés"
_NUMBER_RULE = "numéro"


@dataclass(frozen=True)
class ThemeMatch:
    code: str
    confidence: float
    rule: str


def resolve_theme(raw: str) -> ThemeMatch:
    text = fold(raw).strip(" .…▶►•*-–—:>#")
    if not text:
        return ThemeMatch(UNKNOWN, 0.0, "vide")
    by_keyword = _by_keywords(text)
    if by_keyword:
        return by_keyword
    by_fuzzy = _by_fuzzy(text)
    if by_fuzzy:
        return by_fuzzy
    number = _NUMBER_RE.search(fold(raw))
    if number:
        digit = next(g for g in number.groups() if g)
        return ThemeMatch(PREAMBLE_ORDER[int(digit) - 1], 0.9, _NUMBER_RULE)
    return ThemeMatch(UNKNOWN, 0.0, "aucune règle")


def named_theme(raw: str) -> ThemeMatch | None:
    """The theme a line names on its own, or None.

    Stricter than `resolve_theme`, which reads a cell known to hold a
    theme: here the line could as well be a statement (a banner row of a
    table without a theme column, a paragraph above a table). It must be
    as short as a label and name two of one theme's words ("Travailler
    ensemble autrement"), or be a bare number ("Thème 3", "#3").
    """
    if len(raw.split()) > MAX_LABEL_WORDS:
        return None
    match = resolve_theme(raw)
    if match.rule == _NUMBER_RULE or (match.rule == _KEYWORD_RULE and match.confidence == 1.0):
        return match
    return None


def _by_keywords(text: str) -> ThemeMatch | None:
    words = [w for w in _WORD_RE.findall(text) if len(w) >= 4]
    scores = {
        code: sum(1 for word in words if any(stem.startswith(word) or word.startswith(stem) for stem in stems))
        for code, stems in _KEYWORDS.items()
    }
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top == 0 or top == second:
        return None
    return ThemeMatch(best, 1.0 if top >= 2 else 0.9, _KEYWORD_RULE)


def _by_fuzzy(text: str) -> ThemeMatch | None:
    """The theme whose alias the label is closest to, if no other theme's
    alias is as close (within _FUZZY_TIE_MARGIN)."""
    choices = [alias for alias, _ in _ALIAS_CHOICES]
    found = process.extract(text, choices, scorer=fuzz.WRatio, limit=None, score_cutoff=_FUZZY_THRESHOLD)
    if not found:
        return None
    _, best, index = found[0]
    code = _ALIAS_CHOICES[index][1]
    if any(_ALIAS_CHOICES[other][1] != code for _, score, other in found if score > best - _FUZZY_TIE_MARGIN):
        return None
    return ThemeMatch(code, round(best / 100, 2), "rapprochement")
