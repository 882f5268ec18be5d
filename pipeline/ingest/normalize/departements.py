"""The 101 départements of 2020 and the resolution of a DSDEN title to one.

Titles come as "DSDEN de la Sarthe", "DSDEN 72", "Direction des services
départementaux de l'éducation nationale du Nord", "DSDEN des
Bouches-du-Rhône"... The reference table (INSEE code, name, académie and
région académique as of the 2020 reform) is `pipeline/data/departements.csv`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

from rapidfuzz import fuzz, process

from pipeline.text import fold


@dataclass(frozen=True)
class Departement:
    code: str
    nom: str
    academie: str
    region_academique: str


_TITLE_RE = re.compile(
    r"\b(?:dsden|dasen|ia[- ]dasen|inspection academique|direction des services departementaux"
    r"(?: de l'education nationale)?)\b(.*)$"
)
_CODE_RE = re.compile(r"^\s*(?:du |de la |de l'|des |de |d')?\(?\s*(2a|2b|97[1-6]|\d{2})\s*\)?\s*$")
_ARTICLE_RE = re.compile(r"^(?:de la |de l'|du |des |de |d'|en |dans l'|dans le |dans la )")


@lru_cache(maxsize=1)
def departements() -> dict[str, Departement]:
    """The reference table, keyed by INSEE code."""
    text = files("pipeline").joinpath("data", "departements.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {row["code"]: Departement(**row) for row in rows}


@lru_cache(maxsize=1)
def _names() -> list[tuple[str, str]]:
    """Folded names, also without their own article ("La Réunion" → "reunion")."""
    names = []
    for code, d in departements().items():
        name = fold(d.nom).replace("-", " ")
        names.append((name, code))
        if name.startswith(("la ", "le ", "les ")):
            names.append((name.split(" ", 1)[1], code))
    return names


def resolve_title(text: str) -> Departement | None:
    """The département named in a DSDEN title line, or None."""
    folded = fold(text)
    match = _TITLE_RE.search(folded)
    if not match:
        return None
    return resolve_name(match.group(1))


def resolve_name(text: str) -> Departement | None:
    """A département from its name (with or without article) or its code."""
    rest = fold(text).strip(" :,-–()")
    code = _CODE_RE.match(rest)
    if code:
        return departements().get(code.group(1).upper())
    rest = _ARTICLE_RE.sub("", rest).replace("-", " ").strip()
    if not rest:
        return None
    names = _names()
    exact = [c for name, c in names if rest == name or rest.startswith(name + " ")]
    if exact:
        # "Haute-Loire" must beat "Loire": the longest exact name wins.
        return departements()[max(exact, key=lambda c: len(fold(departements()[c].nom)))]
    found = process.extractOne(rest, [name for name, _ in names], scorer=fuzz.ratio)
    if found and found[1] >= 85:
        return departements()[names[found[2]][1]]
    return None


# A département code standing alone in a file name: "EGN_05", "DSDEN64",
# "sarthe-72" (not part of a longer number such as a year).
_NAME_CODE_RE = re.compile(r"(?<![0-9a-z])(?:dsden|dasen)?(2a|2b|97[1-6]|\d{2})(?![0-9a-z])")


def guess_from_file_name(source_file: str) -> Departement | None:
    """The département a file's name points to, for a file that could not be
    read: analysts then know whom to call. A name ("Bouches_du_rhone") and a
    code ("EGN_13") must agree when both are there; two different codes say
    nothing."""
    stem = fold(source_file.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    spaced = " " + re.sub(r"[^0-9a-z]+", " ", stem) + " "
    codes = {code.upper() for code in _NAME_CODE_RE.findall(stem.replace(" ", "_"))} & departements().keys()
    named = [code for name, code in _names() if f" {name} " in spaced]
    by_name = max(named, key=lambda c: len(departements()[c].nom)) if named else None
    if by_name and (not codes or by_name in codes):
        return departements()[by_name]
    if len(codes) == 1 and by_name is None:
        return departements()[codes.pop()]
    return None


COVER_PAGE_BASIS = "d'après la page de garde"
FILE_NAME_BASIS = "d'après le nom du fichier"


@dataclass(frozen=True)
class Guess:
    """Where a rejected file seems to come from, and on what basis (its cover
    page or its name): written at the end of its French message, read back
    by the report. Both directions are here, so the sentence has one form."""

    departement: Departement
    basis: str  # COVER_PAGE_BASIS or FILE_NAME_BASIS

    def sentence(self) -> str:
        """« Département supposé d'après le nom du fichier : Hautes-Alpes (05). »"""
        return f" Département supposé {self.basis} : {self.departement.nom} ({self.departement.code})."


_GUESS_RE = re.compile(r"Département supposé (?P<basis>d'après [^:]+?) : .+ \((?P<code>\w{2,3})\)\.$")


def read_guess(message: str) -> Guess | None:
    """The guess a message ends with (`Guess.sentence`), or None."""
    match = _GUESS_RE.search(message)
    if match is None or match["code"] not in departements():
        return None
    return Guess(departements()[match["code"]], match["basis"])
