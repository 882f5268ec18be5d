"""Compare a training choice with the shipped one on a validation corpus:
`make compare` (python -m pipeline.classify.compare).

A change to the classifier (its config, or a training file added or
removed) is decided on a validation corpus, e.g. the dev corpus truth,
with models trained without it; never on the blind set or the seed, which
only measure. One member's strict accuracy moves by about ±1.5 points
from one seed to the next, so each side is trained with several seeds and
reported both as single members and as committees built as the one that
ships (`train.committee`: the config's `members`, their probabilities
averaged with those of its `other_members`). Accuracy is the model's alone:
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
from pipeline.classify.train import CONFIG, committee, prepare, settings, train
from pipeline.contract import CATEGORIES

DEFAULT_SEEDS = 4


@dataclass(frozen=True)
class Variant:
    """One side of a comparison: a config and the training files."""

    name: str
    config: Path
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Tables:
    """Probabilities on the validation corpus (columns in CATEGORIES order),
    one table per seed: the config's own member, and its other members'."""

    own: list[NDArray[numpy.float32]]
    others: list[list[NDArray[numpy.float32]]]


@dataclass(frozen=True)
class Result:
    """Strict accuracy on the validation corpus, per seed and per committee."""

    variant: Variant
    members: tuple[float, ...]
    committees: tuple[float, ...]

    def line(self) -> str:
        committees = f"{mean(self.committees):.4f}" if self.committees else "—"
        return (f"{self.variant.name:<10} un membre {mean(self.members):.4f} "
                f"({' '.join(f'{m:.3f}' for m in self.members)}) ; comité {committees} ; "
                f"{len(self.variant.files)} fichiers, {self.variant.config.name}")


def probabilities(variant: Variant, validation: list[Labelled], seeds: int,
                  reader: StatementReader) -> Tables:
    """Each seed's members, trained on the variant's files, scoring `validation`:
    the config's own (member number: the seed's) and each of its other
    members (numbered after the config's own, as in the committee)."""
    labelled = prepare([r for path in variant.files for r in read_jsonl(path)], reader)
    docs = list(reader.read([r["text"] for r in validation]))
    own = settings(variant.config)["members"]

    def table(config: Path, member: int) -> NDArray[numpy.float32]:
        textcat = cast(MultiLabel_TextCategorizer, train(labelled, config, member).get_pipe(TEXTCAT))
        return member_probabilities(textcat, docs)[:, [textcat.labels.index(code) for code in CATEGORIES]]

    return Tables([table(variant.config, seed) for seed in range(seeds)],
                  [[table(config, own + seed) for config in committee(variant.config)[own:]] for seed in range(seeds)])


def result(variant: Variant, tables: Tables, validation: list[Labelled]) -> Result:
    """Each seed's own member alone, and a committee per choice of the
    config's `members` seeds (with the other members of the first seed)."""
    truth = numpy.array([CATEGORIES.index(r["categories"][0]) for r in validation])

    def strict(table: NDArray[numpy.float32]) -> float:
        return float((table.argmax(axis=1) == truth).mean())

    picks = combinations(range(len(tables.own)), settings(variant.config)["members"])
    return Result(variant, tuple(strict(t) for t in tables.own),
                  tuple(strict(numpy.mean([*(tables.own[i] for i in pick), *tables.others[pick[0]]],
                                          axis=0, dtype=numpy.float32)) for pick in picks))


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
