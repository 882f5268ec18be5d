"""Compare a training choice with the shipped one on a validation corpus:
`make compare` (python -m pipeline.classify.compare).

A change to the classifier (its config, or a training file added or
removed) is decided on a validation corpus, e.g. the dev corpus truth,
with models trained without it; never on the blind set or the seed, which
only measure. One member's strict accuracy moves by about ±1.5 points
from one seed to the next, so each side is trained with several seeds and
reported both as single members and as two-member committees (what
ships: their probabilities averaged). Accuracy is the model's alone:
the cue weight and the calibration are chosen afterwards, by `make train`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from statistics import mean
from typing import cast

import numpy
from numpy.typing import NDArray
from spacy.pipeline.textcat_multilabel import MultiLabel_TextCategorizer

from pipeline.classify.classifier import TEXTCAT, StatementReader, member_probabilities
from pipeline.classify.labelled import Labelled, read_jsonl, training_files, truth_records
from pipeline.classify.train import CONFIG, prepare, train
from pipeline.contract import CATEGORIES

DEFAULT_SEEDS = 4


@dataclass(frozen=True)
class Variant:
    """One side of a comparison: a config and the training files."""

    name: str
    config: Path
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Result:
    """Strict accuracy on the validation corpus, per seed and per pair of seeds."""

    variant: Variant
    members: tuple[float, ...]
    committees: tuple[float, ...]

    def line(self) -> str:
        committees = f"{mean(self.committees):.4f}" if self.committees else "—"
        return (f"{self.variant.name:<10} un membre {mean(self.members):.4f} "
                f"({' '.join(f'{m:.3f}' for m in self.members)}) ; comité de deux {committees} ; "
                f"{len(self.variant.files)} fichiers, {self.variant.config.name}")


def probabilities(variant: Variant, validation: list[Labelled], seeds: int,
                  reader: StatementReader) -> list[NDArray[numpy.float32]]:
    """Each seed's member, trained on the variant's files, scoring `validation`
    (columns in CATEGORIES order)."""
    labelled = prepare([r for path in variant.files for r in read_jsonl(path)], reader)
    docs = list(reader.read([r["text"] for r in validation]))
    tables = []
    for member in range(seeds):
        textcat = cast(MultiLabel_TextCategorizer, train(labelled, variant.config, member).get_pipe(TEXTCAT))
        tables.append(member_probabilities(textcat, docs)[:, [textcat.labels.index(code) for code in CATEGORIES]])
    return tables


def result(variant: Variant, tables: list[NDArray[numpy.float32]], validation: list[Labelled]) -> Result:
    truth = numpy.array([CATEGORIES.index(r["categories"][0]) for r in validation])

    def strict(table: NDArray[numpy.float32]) -> float:
        return float((table.argmax(axis=1) == truth).mean())

    return Result(variant, tuple(strict(t) for t in tables),
                  tuple(strict(numpy.mean([a, b], axis=0, dtype=numpy.float32)) for a, b in combinations(tables, 2)))


def compare(variants: list[Variant], validation: list[Labelled], seeds: int = DEFAULT_SEEDS) -> list[Result]:
    reader = StatementReader()
    return [result(v, probabilities(v, validation, seeds, reader), validation) for v in variants]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Compare a training choice with the shipped one on a validation corpus.")
    parser.add_argument("--validation", type=Path, nargs="+", required=True,
                        help="truth folders the models never learn (e.g. the dev corpus truth)")
    parser.add_argument("--config", type=Path, default=CONFIG, help="the candidate's config (default: the shipped one)")
    parser.add_argument("--with", dest="extra", type=Path, nargs="*", default=[],
                        help="training files the candidate adds")
    parser.add_argument("--without", type=Path, nargs="*", default=[],
                        help="training files the candidate leaves out")
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS)
    args = parser.parse_args(argv)
    shipped = tuple(training_files())
    trained_on = {path.resolve() for path in shipped}
    unknown = [path for path in args.without if path.resolve() not in trained_on]
    if unknown:
        parser.error(f"pas un fichier d'entraînement : {', '.join(map(str, unknown))}")
    left_out = {path.resolve() for path in args.without}
    candidate = tuple(p for p in shipped if p.resolve() not in left_out) + tuple(args.extra)
    if candidate == shipped and args.config.resolve() == CONFIG.resolve():
        parser.error("le candidat est le modèle livré : donner --config, --with ou --without")
    validation = [record for folder in args.validation for record in truth_records(folder)]
    for line in compare([Variant("livré", CONFIG, shipped), Variant("candidat", args.config, candidate)],
                        validation, args.seeds):
        print(line.line())


if __name__ == "__main__":
    main()
