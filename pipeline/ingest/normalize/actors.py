"""Actors of a plan d'action ("Acteurs mobilisés") to the contract's codes.

The lexicon is data (`pipeline/data/acteurs.csv`: one regular expression
per code over accent-free lower-case text), so analysts can audit and
extend it. The text is cut into mentions (commas, slashes, "et", line
breaks); a mention that names no known actor counts as `autre`, so that
"Mission locale, Pôle emploi" is not lost.
"""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from importlib.resources import files

from pipeline.text import fold, strip_bullet

OTHER = "autre"
_SPLIT_RE = re.compile(r"\s*(?:[,;/|+\n]|\bet\b|\s-\s|\s–\s)\s*")
_PAREN_RE = re.compile(r"\(([^)]*)\)")
_FILLER_RE = re.compile(r"^(?:\.+|…|etc\.?|acteurs?|partenaires?|tous|les|des|a completer|a definir|non defini|)$")


@lru_cache(maxsize=1)
def lexicon() -> list[tuple[str, re.Pattern[str]]]:
    text = files("pipeline").joinpath("data", "acteurs.csv").read_text(encoding="utf-8")
    return [(row["code"], re.compile(row["pattern"])) for row in csv.DictReader(text.splitlines())]


def actor_codes(raw: str) -> list[str]:
    """Codes of the actors named in `raw`, in order of first mention."""
    codes: list[str] = []
    for mention in _mentions(raw):
        found = [code for code, pattern in lexicon() if pattern.search(mention)]
        if not found and not _FILLER_RE.match(mention.strip(" .…")):
            found = [OTHER]
        for code in found:
            if code not in codes:
                codes.append(code)
    return codes


def _mentions(raw: str) -> list[str]:
    """Folded mentions, split on separators outside parentheses and on line
    breaks; a parenthesis stays with its mention."""
    mentions = []
    for line in raw.splitlines():
        line = fold(strip_bullet(line))
        protected = _PAREN_RE.sub(lambda m: "(" + m.group(1).replace(",", "\x00").replace(" et ", "\x01") + ")", line)
        for part in _SPLIT_RE.split(protected):
            part = part.replace("\x00", ",").replace("\x01", " et ").strip()
            if part:
                mentions.append(part)
    return mentions
