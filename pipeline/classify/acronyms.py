"""French education acronyms, spelled out before a statement is read.

"Désigner un DPD dans chaque EPLE" says nothing to a model that never saw
"DPD": the lexicon (`pipeline/data/acronymes.csv`, one row per acronym:
its expansion, and whether it is recognised in any case) appends each
acronym's expansion to it, so the lemmas, norms and word vectors the
classifier reads are those of "délégué à la protection des données". The
acronym itself stays, for the cues and for the words the model learnt.
Acronyms that are also French words ("ONDE", "REP", "PAF") are matched in
capitals only.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path


@dataclass(frozen=True)
class Acronym:
    acronym: str
    expansion: str
    ignore_case: bool


def default_path() -> Path:
    return Path(str(files("pipeline").joinpath("data", "acronymes.csv")))


def load_acronyms(path: Path | None = None) -> list[Acronym]:
    with (path or default_path()).open(encoding="utf-8", newline="") as handle:
        return [
            Acronym(row["acronym"], row["expansion"], row["ignore_case"].strip().lower() == "true")
            for row in csv.DictReader(handle)
        ]


class AcronymExpander:
    """Spells out the lexicon's acronyms in a text (one regex pass)."""

    def __init__(self, acronyms: list[Acronym]) -> None:
        self.expansions: dict[str, str] = {}
        exact: list[str] = []
        any_case: list[str] = []
        for entry in acronyms:
            key = entry.acronym.casefold() if entry.ignore_case else entry.acronym
            self.expansions.setdefault(key, entry.expansion)
            (any_case if entry.ignore_case else exact).append(re.escape(entry.acronym))
        # Longest first, so "REP+" wins over "REP"; a word boundary on both
        # sides keeps "ent" inside "souvent" and "rep" inside "reprise" out.
        alternatives = [f"(?i:{'|'.join(_longest_first(any_case))})"] if any_case else []
        alternatives += _longest_first(exact)
        self._pattern = re.compile(rf"(?<![\w@]){'(' + '|'.join(alternatives) + ')'}(?![\w])")

    def __call__(self, text: str) -> str:
        def spell_out(match: re.Match[str]) -> str:
            word = match.group(1)
            expansion = self.expansions.get(word) or self.expansions.get(word.casefold())
            return f"{word} ({expansion})" if expansion else word

        return self._pattern.sub(spell_out, text)


def _longest_first(names: list[str]) -> list[str]:
    return sorted(names, key=len, reverse=True)
