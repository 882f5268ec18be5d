"""Recurring statements: the same idea raised by several départements.

Restitutions were written by hand in each département, so one concern
comes back in many wordings: « Manque de formation des enseignants »,
« Des enseignants insuffisamment formés », « Former tous les acteurs de
l'éducation ». This module groups such near-duplicates, within one theme
and one role, and keeps the groups that at least two départements share.

The method, in one place:

1. **Scope.** Only the counted documents (`aggregate.counted_ids`: one
   current file per département) and the classified roles (irritant,
   point fort, besoin, levier, action, difficulté) of a known theme.
2. **Normalisation** (`normalise`). Accent-free lower case; a short
   lexicon of this corpus's spelling variants and near-synonyms mapped to
   one concept (wi-fi/wifi, professeur/enseignant, parents/familles,
   matériel/équipement/ordinateurs, concertation/consultation…); French
   stop words removed, together with the words that every statement of a
   block shares and that carry no distinction within it: the lack and
   intent markers (« manque », « insuffisant », « développer »,
   « renforcer »…) — the role already says whether a statement is a
   problem or a remedy — and the corpus's ubiquitous context words
   (« numérique », « éducation », « acteurs »…); then light suffix
   stripping (formation / former / formés → « form »). Word order is lost
   on purpose: the scorers below sort or set the tokens.
   These word lists are data, in `pipeline/data/recurring_lexicon.toml`.
3. **Similarity** (`similarity_matrix`), 0–100, with rapidfuzz on the
   normalised texts: ``0.5 × token_set_ratio + 0.5 × Dice``, plus
   ``CATEGORY_BONUS`` (8) when both statements have the same primary
   `category`. token_set_ratio works on characters, so it forgives typos
   and words cut or glued by the extraction (« renouvellementdu »); but it
   scores 100 whenever one token set contains the other, and it rewards
   stems that merely look alike (« connexion » / « déconnexion »). The
   Dice coefficient of the two stem *sets* (computed by rapidfuzz too, see
   `_token_codes`) counts whole shared stems only and tempers both.
4. **Grouping** (`_average_linkage`). Pairs at or above ``THRESHOLD``
   form a graph; inside each connected component, average-linkage
   agglomerative clustering merges two clusters only while their mean
   pairwise similarity stays at or above the threshold, so a chain
   A ≈ B ≈ C does not glue A to an unrelated C.
5. **Output.** Groups with at least two départements; the representative
   is the member text (verbatim) with the highest mean similarity to the
   others; `group_id` hashes theme, role and the sorted item ids.

Identical normalised texts are compared once (a node carries all its
items), so the cost grows with the number of *distinct* statements of a
block, not with the number of items.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from typing import TypedDict

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from pipeline.contract import CLASSIFIED_ROLES
from pipeline.ingest.normalize.themes import UNKNOWN
from pipeline.tables.aggregate import counted
from pipeline.tables.schemas import COLUMNS as CONTRACT_COLUMNS
from pipeline.text import fold

COLUMNS = CONTRACT_COLUMNS["recurring_statements"]

THRESHOLD = 70.0
CATEGORY_BONUS = 8.0
FUZZY_WEIGHT = 0.5
MIN_STEM = 4

# Read once, at import; the file says what each list is for.
_LEXICON = tomllib.loads(files("pipeline").joinpath("data", "recurring_lexicon.toml").read_text(encoding="utf-8"))
STOP_WORDS = frozenset(_LEXICON["stop_words"].split())
GENERIC_WORDS = frozenset(_LEXICON["generic_words"].split())
VARIANTS: dict[str, str] = {word: concept for concept, words in _LEXICON["concepts"].items() for word in words}
_PHRASES = [(re.compile(phrase["pattern"]), phrase["replacement"]) for phrase in _LEXICON["phrases"]]
# Longest first, so that a word loses the longest suffix that fits.
SUFFIXES = sorted(_LEXICON["suffixes"].split(), key=len, reverse=True)
# « les équipes » (teams) and « équipé(e)s » (equipped) fold to the same
# letters: they are told apart on the accented text, before folding.
_TEAM_RE = re.compile(r"\b[ée]quipes?\b", re.IGNORECASE)
TEAM = "team"
_TOKEN_RE = re.compile(r"[a-z0-9@]+")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Strip one inflectional or derivational ending, so that « formation »,
    « former » and « formés » meet on « form »."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            return word[: -len(suffix)]
    return word


def normalise(text: str) -> str:
    """The comparable core of a statement: content stems, space-separated.

    Empty when the statement holds nothing but function or generic words;
    such a statement is not grouped (nothing in it can be compared).
    """
    folded = fold(_TEAM_RE.sub(f" {TEAM} ", text))
    for pattern, replacement in _PHRASES:
        folded = pattern.sub(replacement, folded)
    tokens = []
    for word in _TOKEN_RE.findall(folded.replace("'", " ")):
        if word == TEAM or word in VARIANTS:
            tokens.append(VARIANTS.get(word, word))
            continue
        if len(word) < 2 or word in STOP_WORDS or word in GENERIC_WORDS or word.isdigit():
            continue
        tokens.append(stem(word))
    return " ".join(dict.fromkeys(tokens))


@dataclass(frozen=True)
class _Statement:
    item_id: str
    dep: str
    text: str
    category: str | None
    norm: str


@dataclass
class _Node:
    """One distinct normalised text of a block and the statements that share it."""

    key: str
    category: str | None
    members: list[_Statement]


def _token_codes(keys: list[str]) -> list[str]:
    """Each normalised text as a sorted string of one character per stem.

    On such strings rapidfuzz's Indel ratio is exactly the Dice coefficient
    of the two stem sets (their longest common subsequence is their
    intersection), computed at C speed by `process.cdist`.
    """
    vocabulary = sorted({token for key in keys for token in key.split()})
    code = {token: chr(0xE000 + i) if i < 6400 else chr(0xF0000 + i - 6400) for i, token in enumerate(vocabulary)}
    return ["".join(sorted(code[token] for token in set(key.split()))) for key in keys]


def similarity_matrix(keys: list[str], categories: list[str | None]) -> np.ndarray:
    """Pairwise similarity (0–100) of normalised texts; see the module docstring."""
    fuzzy = process.cdist(keys, keys, scorer=fuzz.token_set_ratio, dtype=np.float32, workers=1)
    codes = _token_codes(keys)
    dice = process.cdist(codes, codes, scorer=fuzz.ratio, dtype=np.float32, workers=1)
    scores: np.ndarray = FUZZY_WEIGHT * fuzzy + (1 - FUZZY_WEIGHT) * dice
    labels = np.array([c or "" for c in categories], dtype=object)
    same = (labels[:, None] == labels[None, :]) & (labels[:, None] != "")
    scores = np.minimum(scores + CATEGORY_BONUS * same, 100.0)
    np.fill_diagonal(scores, 100.0)
    return scores


def _components(adjacent: np.ndarray) -> list[list[int]]:
    """Connected components of a boolean adjacency matrix (depth-first)."""
    seen: set[int] = set()
    components = []
    for start in range(len(adjacent)):
        if start in seen:
            continue
        stack, members = [start], []
        seen.add(start)
        while stack:
            node = stack.pop()
            members.append(node)
            for neighbour in np.flatnonzero(adjacent[node]):
                if int(neighbour) not in seen:
                    seen.add(int(neighbour))
                    stack.append(int(neighbour))
        components.append(sorted(members))
    return components


def _average_linkage(scores: np.ndarray, sizes: list[int], threshold: float) -> list[list[int]]:
    """UPGMA on one component: merge the closest pair of clusters while their
    size-weighted mean similarity reaches the threshold.

    Sizes are item counts, so a text repeated by ten départements weighs
    as ten statements, as it would without the de-duplication of nodes.
    """
    n = len(sizes)
    if n == 1:
        return [[0]]
    sim = scores.astype(np.float64).copy()
    np.fill_diagonal(sim, -np.inf)
    weight = np.array(sizes, dtype=np.float64)
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    while True:
        flat = int(np.argmax(sim))
        i, j = divmod(flat, n)
        if sim[i, j] < threshold:
            break
        merged = (weight[i] * sim[i] + weight[j] * sim[j]) / (weight[i] + weight[j])
        sim[i], sim[:, i] = merged, merged
        sim[i, i] = -np.inf
        sim[j], sim[:, j] = -np.inf, -np.inf
        weight[i] += weight[j]
        members[i] += members.pop(j)
    return [sorted(m) for m in members.values()]


def _clusters(nodes: list[_Node], threshold: float) -> list[tuple[list[int], np.ndarray]]:
    """Clusters of node indices, each with its similarity sub-matrix."""
    scores = similarity_matrix([n.key for n in nodes], [n.category for n in nodes])
    adjacent = scores >= threshold
    np.fill_diagonal(adjacent, False)
    found = []
    for component in _components(adjacent):
        if len(component) < 2 and len(nodes[component[0]].members) < 2:
            continue
        sub = scores[np.ix_(component, component)]
        sizes = [len(nodes[i].members) for i in component]
        for cluster in _average_linkage(sub, sizes, threshold):
            chosen = [component[k] for k in cluster]
            found.append((chosen, scores[np.ix_(chosen, chosen)]))
    return found


def _most_common(values: list[str]) -> str:
    """The most frequent value; ties go to the shorter, then the first alphabetically."""
    counts = Counter(values)
    return min(counts, key=lambda v: (-counts[v], len(v), v))


def _nodes(statements: list[_Statement]) -> list[_Node]:
    """Distinct normalised texts of a block, in first-seen order.

    A normalised text shared by statements of different categories keeps
    the most frequent category, for the category bonus.
    """
    by_key: dict[str, list[_Statement]] = {}
    for statement in statements:
        if statement.norm:
            by_key.setdefault(statement.norm, []).append(statement)
    nodes = []
    for key, members in by_key.items():
        categories = [m.category for m in members if m.category]
        nodes.append(_Node(key, _most_common(categories) if categories else None, members))
    return nodes


def _representative(nodes: list[_Node], cluster: list[int], scores: np.ndarray) -> str:
    """The most central member, verbatim: highest item-weighted mean
    similarity to the group's statements; among equals, the most frequent
    text, then the shorter, then the first alphabetically."""
    sizes = np.array([len(nodes[i].members) for i in cluster], dtype=np.float64)
    centrality = (scores * sizes[None, :]).sum(axis=1) / sizes.sum()
    central = np.flatnonzero(centrality >= centrality.max() - 1e-6)
    return _most_common([m.text for k in central for m in nodes[cluster[k]].members])


def group_id(theme: str, role: str, item_ids: list[str]) -> str:
    """12 hex digits, stable as long as the group has the same members."""
    key = "|".join([theme, role, *sorted(item_ids)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]


class _Group(TypedDict):
    """A row of the recurring_statements table."""

    theme: str
    role: str
    group_id: str
    representative: str
    n_departements: int
    departements: list[str]
    item_ids: list[str]


def _block_groups(theme: str, role: str, statements: list[_Statement], threshold: float) -> list[_Group]:
    """The recurring groups of one theme and role."""
    nodes = _nodes(statements)
    if not nodes:
        return []
    rows: list[_Group] = []
    for cluster, scores in _clusters(nodes, threshold):
        members = [m for i in cluster for m in nodes[i].members]
        departements = sorted({m.dep for m in members})
        if len(departements) < 2:
            continue
        item_ids = sorted(m.item_id for m in members)
        rows.append({
            "theme": theme, "role": role, "group_id": group_id(theme, role, item_ids),
            "representative": _representative(nodes, cluster, scores),
            "n_departements": len(departements), "departements": departements, "item_ids": item_ids,
        })
    return rows


def _blocks(items: pd.DataFrame, documents: pd.DataFrame) -> dict[tuple[str, str], list[_Statement]]:
    """The statements in scope, by (theme, role), in item_id order."""
    scoped = counted(items, documents)
    scoped = scoped[scoped["role"].isin(CLASSIFIED_ROLES) & (scoped["theme"] != UNKNOWN)]
    norms = {text: normalise(text) for text in set(scoped["text"].dropna())}
    blocks: dict[tuple[str, str], list[_Statement]] = {}
    for item, dep, theme, role, text, category in sorted(zip(
        scoped["item_id"], scoped["dep"], scoped["theme"], scoped["role"], scoped["text"], scoped["category"],
    )):
        text = text or ""
        category = category if isinstance(category, str) and category else None
        blocks.setdefault((theme, role), []).append(_Statement(item, dep, text, category, norms.get(text, "")))
    return blocks


def recurring_statements(items: pd.DataFrame, documents: pd.DataFrame, threshold: float = THRESHOLD) -> pd.DataFrame:
    """Near-duplicate statements shared by at least two départements.

    One row per group, sorted by number of départements (descending),
    then theme, role and representative text.
    """
    rows: list[_Group] = []
    for (theme, role), statements in sorted(_blocks(items, documents).items()):
        rows += _block_groups(theme, role, statements, threshold)
    if not rows:
        return pd.DataFrame(columns=COLUMNS)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.sort_values(["n_departements", "theme", "role", "representative", "group_id"],
                              ascending=[False, True, True, True, True], kind="mergesort")
    return frame.reset_index(drop=True)
