"""Classify statements into the contract's topic categories.

One spaCy pipeline does it all, per batch of statements (`nlp.pipe`):
fr_core_news_sm's tokenizer, tagger and lemmatizer (parser and NER are
excluded: unused), `egn_lemma_norm` (accent-free lemmas), `egn_cues` (the
taxonomy's cues) and the trained `textcat_multilabel`, which reads the
norms and the word vectors of `vectors.py` (a committee, averaged: see
`Classifier`). Acronyms of the lexicon are spelled out first
(`acronyms.py`).

How probabilities and cues become `category`, `categories` and a
calibrated `category_score`: `scoring.py`. The primary category is the
best combined score; `categories` adds every other category whose combined
score is at least the scoring's `secondary` (at most MAX_CATEGORIES in all).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import numpy
import spacy
from numpy.typing import NDArray
from spacy.pipeline.textcat_multilabel import MultiLabel_TextCategorizer
from spacy.tokens import Doc

from pipeline.classify import components  # noqa: F401  (registers the spaCy pieces)
from pipeline.classify.acronyms import AcronymExpander, load_acronyms
from pipeline.classify.paths import default_model_dir
from pipeline.classify.scoring import Doubt, Scoring
from pipeline.classify.taxonomy import Category, load_taxonomy
from pipeline.classify.vectors import attach_vectors, load_vectors

BASE_MODEL = "fr_core_news_sm"
MAX_CATEGORIES = 3
BATCH_SIZE = 256


TEXTCAT = "textcat_multilabel"
MEMBER_PREFIX = "member_"


def member_probabilities(member: MultiLabel_TextCategorizer, docs: list[Doc]) -> NDArray[numpy.float32]:
    """One committee member's probabilities for `docs`: a row per doc, a
    column per label in `member.labels` order."""
    scores = member.model.ops.to_numpy(member.predict(docs))  # type: ignore[no-untyped-call]  # thinc: untyped
    return numpy.asarray(scores, dtype=numpy.float32)


def member_dirs(model_dir: Path) -> list[Path]:
    return sorted(path for path in model_dir.glob(f"{MEMBER_PREFIX}*") if path.is_dir())


@dataclass(frozen=True)
class Prediction:
    category: str
    categories: list[str]
    score: float
    # What calibration read (the primary's combined score, its margin over
    # the runner-up, a disagreement of model and cues).
    doubt: Doubt
    # The primary category by the model alone and by the cues alone (None
    # without a cue): where they disagree an analyst should look.
    model_category: str
    cue_category: str | None

    @property
    def margin(self) -> float:
        """How far the primary's combined score is ahead of the runner-up's."""
        return round(self.doubt.margin, 4)


@dataclass(frozen=True)
class Evidence:
    """The model's probability of each category and the cue count of each."""

    probabilities: dict[str, float]
    cue_hits: dict[str, int]


class StatementReader:
    """The French pipeline that turns statements into lemmatised docs with
    norms and word vectors: shared by training and classification, so the
    model reads at run time exactly what it learnt from."""

    def __init__(self) -> None:
        self.nlp = spacy.load(BASE_MODEL, exclude=["parser", "ner"])
        self.nlp.add_pipe("egn_lemma_norm")
        attach_vectors(self.nlp, load_vectors())
        self.expand = AcronymExpander(load_acronyms())

    def read(self, texts: list[str]) -> Iterator[Doc]:
        return self.nlp.pipe((self.expand(text) for text in texts), batch_size=BATCH_SIZE)


class Classifier:
    """Load once per process (it takes seconds), then classify in batches.

    The model is a small committee: the textcats in the model folder's
    `member_*` folders (same data; two ensembles with different seeds and a
    bag-of-words: `train.committee`) vote by averaging their probabilities,
    which steadies the categories of unfamiliar wording.
    """

    def __init__(self, model_dir: Path | None = None, taxonomy_path: Path | None = None) -> None:
        model_dir = model_dir or default_model_dir()
        self.taxonomy: list[Category] = load_taxonomy(taxonomy_path)
        self.reader = StatementReader()
        self.reader.nlp.add_pipe("egn_cues", config={"taxonomy_path": str(taxonomy_path) if taxonomy_path else None})
        # spaCy types every component as a Doc → Doc callable; a member's is a
        # graded multi-label textcat (components.GradedTextCategorizer).
        self.members = [cast(MultiLabel_TextCategorizer, spacy.load(path).get_pipe(TEXTCAT))
                        for path in member_dirs(model_dir)]
        if not self.members:
            raise FileNotFoundError(f"no trained model in {model_dir}")
        self.scoring = Scoring.load(model_dir)
        self.codes = [category.code for category in self.taxonomy]

    def classify(self, texts: list[str]) -> list[Prediction]:
        return [self.decide(evidence) for evidence in self.evidence(texts)]

    def evidence(self, texts: list[str]) -> list[Evidence]:
        """What the model and the cues say of each statement, before scoring.

        A blank text has no word for the model to read (spaCy's n-gram
        layer fails on an empty doc): it gets no probability and no cue.
        """
        readable = [text for text in texts if text.strip()]
        found = iter([e for start in range(0, len(readable), BATCH_SIZE)
                      for e in self._batch(readable[start:start + BATCH_SIZE])])
        blank = Evidence({code: 0.0 for code in self.codes}, {})
        return [next(found) if text.strip() else blank for text in texts]

    def _batch(self, texts: list[str]) -> list[Evidence]:
        docs = list(self.reader.read(texts))
        votes = [member_probabilities(member, docs) for member in self.members]
        mean = sum(votes[1:], votes[0]) / len(votes)
        labels = self.members[0].labels
        return [
            Evidence({label: float(row[i]) for i, label in enumerate(labels)}, dict(doc._.cue_hits or {}))
            for doc, row in zip(docs, mean)
        ]

    def decide(self, evidence: Evidence, scoring: Scoring | None = None) -> Prediction:
        scoring = scoring or self.scoring
        cats, hits = evidence.probabilities, evidence.cue_hits
        combined = {code: scoring.combine(cats.get(code, 0.0), hits.get(code, 0)) for code in self.codes}
        ranked = sorted(self.codes, key=lambda code: (-combined[code], self.codes.index(code)))
        primary = ranked[0]
        others = [code for code in ranked[1:] if combined[code] >= scoring.secondary]
        by_model = max(self.codes, key=lambda code: cats.get(code, 0.0))
        by_cues = max(hits, key=lambda code: (hits[code], -self.codes.index(code))) if hits else None
        doubt = Doubt(
            combined=combined[primary],
            margin=combined[primary] - combined[ranked[1]],
            disagreement=by_model != primary or (by_cues is not None and by_cues != primary),
        )
        return Prediction(
            category=primary,
            categories=[primary, *others][:MAX_CATEGORIES],
            score=round(scoring.calibrate(doubt), 4),
            doubt=doubt,
            model_category=by_model,
            cue_category=by_cues,
        )
