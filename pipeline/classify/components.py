"""spaCy pieces of the classifier: a lemma-level bag-of-words text
classifier and three pipeline components.

`egn_lemma_norm` sets each token's NORM to its accent-free lower-case
lemma, so "Équipements", "equipement" and "équiper" meet on shared
features; `egn.LemmaBOW.v1` is spaCy's TextCatBOW reading NORM instead of
ORTH; `egn_graded_textcat` is spaCy's multi-label text classifier trained
on graded targets; `egn_cues` counts the taxonomy's cues per category.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from spacy.attrs import NORM
from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.ml.extract_ngrams import extract_ngrams
from spacy.ml.models.textcat import resize_and_set_ref
from spacy.pipeline.textcat_multilabel import MultiLabel_TextCategorizer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import registry
from thinc.api import Logistic, Model, SparseLinear_v2, chain, resizable, with_cpu
from thinc.layers.resizable import resize_linear_weighted
from thinc.types import ArrayXd, Floats2d

from pipeline.classify.taxonomy import Category
from pipeline.text import fold

if not Doc.has_extension("cue_hits"):
    Doc.set_extension("cue_hits", default=None)


# spaCy's registries are catalogue's, which ships no types: the decorator
# returns the function it registers.
@registry.architectures("egn.LemmaBOW.v1")  # type: ignore[untyped-decorator]
def lemma_bow(ngram_size: int, length: int, nO: int | None = None) -> Model[list[Doc], Floats2d]:
    """spaCy's multi-label TextCatBOW.v3, on NORM (folded lemmas)."""
    length = 2 ** (length - 1).bit_length()
    sparse_linear = SparseLinear_v2(nO=nO, length=length)
    fill = {"b": -10.0, "W": 0}
    layer: Model[tuple[ArrayXd, ArrayXd, ArrayXd], ArrayXd] = resizable(
        sparse_linear, resize_layer=partial(resize_linear_weighted, fill_defaults=fill)
    )
    model = with_cpu(chain(extract_ngrams(ngram_size, attr=NORM), layer), layer.ops)
    model = chain(model, with_cpu(Logistic(), layer.ops))
    if nO is not None:
        model.set_dim("nO", nO)
    model.set_ref("output_layer", sparse_linear)
    model.attrs["multi_label"] = True
    model.attrs["resize_output"] = partial(resize_and_set_ref, resizable_layer=layer)
    return model


class GradedTextCategorizer(MultiLabel_TextCategorizer):
    """spaCy's multi-label text classifier, trained on targets between 0 and 1.

    A statement's primary category is its main topic and the others are
    side topics: training the secondary ones towards 1, like the primary,
    teaches the model that they are as likely, and its best category is
    then often a side topic. spaCy's loss takes any target in [0, 1]; only
    its validation insists on 0 or 1.
    """

    def _validate_categories(self, examples: Iterable[Example]) -> None:
        for example in examples:
            for value in example.reference.cats.values():
                if not 0.0 <= value <= 1.0:
                    raise ValueError(f"Category target outside [0, 1]: {value}")


@Language.factory(
    "egn_graded_textcat",
    assigns=["doc.cats"],
    default_config={"threshold": 0.5, "scorer": {"@scorers": "spacy.textcat_multilabel_scorer.v2"}},
)
def make_graded_textcat(nlp: Language, name: str, model: Model[list[Doc], Floats2d], threshold: float,
                        scorer: Callable[..., dict[str, Any]] | None) -> GradedTextCategorizer:
    return GradedTextCategorizer(nlp.vocab, model, name, threshold=threshold, scorer=scorer)


@Language.component("egn_lemma_norm")
def lemma_norm(doc: Doc) -> Doc:
    for token in doc:
        token.norm_ = fold(token.lemma_ or token.text)
    return doc


class CueMatcher:
    """Counts, per category, the taxonomy cues a statement contains."""

    def __init__(self, nlp: Language, taxonomy: list[Category]) -> None:
        self.phrases = PhraseMatcher(nlp.vocab, attr="NORM")
        self.abbreviations = Matcher(nlp.vocab)
        prepare = [name for name in nlp.pipe_names if name not in ("egn_cues", "textcat_multilabel")]
        for category in taxonomy:
            with nlp.select_pipes(enable=prepare):
                patterns = list(nlp.pipe(category.cues))
            self.phrases.add(category.code, patterns)
            if category.abbreviations:
                self.abbreviations.add(
                    category.code, [[{"LOWER": abbreviation.lower()}] for abbreviation in category.abbreviations]
                )

    def __call__(self, doc: Doc) -> Doc:
        hits: dict[str, int] = {}
        for match_id, _start, _end in [*self.phrases(doc), *self.abbreviations(doc)]:
            code = doc.vocab.strings[match_id]
            hits[code] = hits.get(code, 0) + 1
        doc._.cue_hits = hits
        return doc


@Language.factory("egn_cues", default_config={"taxonomy_path": None})
def make_cue_matcher(nlp: Language, name: str, taxonomy_path: str | None) -> CueMatcher:
    from pathlib import Path

    from pipeline.classify.taxonomy import load_taxonomy

    return CueMatcher(nlp, load_taxonomy(Path(taxonomy_path) if taxonomy_path else None))
