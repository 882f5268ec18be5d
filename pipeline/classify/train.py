"""Train the statement classifier: `make train` (python -m pipeline.classify.train).

The text classifier reads folded lemmas (NORM) and word vectors, which the
French pipeline computes (`StatementReader`); so each statement is read
once, up front, and the textcat is trained on those docs with the settings
of config.cfg (fixed seed: the same data gives the same model). Only the
textcats are saved (a committee: `members` of config.cfg, each with its own
seed, and one of each config in `other_members`, whose probabilities the
classifier averages), with `scoring.json`: the French base model and the
vector table are dependencies, not part of ours.

Targets are graded: 1 for a statement's primary category,
`secondary_target` for its other categories, 0 for the rest; the saved
weights are the running averages of training.

The cue weight and the score calibration are chosen on a validation split
the model did not learn from: a validation corpus when one is given
(`--validation`, e.g. the dev corpus truth), else a share of the labelled
statements held out by group. The final model then learns from everything
(training and validation statements) and keeps those choices.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NotRequired, TypedDict, cast

from spacy.language import Language
from spacy.pipeline.textcat_multilabel import MultiLabel_TextCategorizer
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import load_config, load_model_from_config
from thinc.api import Model, fix_random_seed
from thinc.types import FloatsXd

from pipeline.classify import components  # noqa: F401
from pipeline.classify.classifier import MEMBER_PREFIX, TEXTCAT, Classifier, Evidence, StatementReader
from pipeline.classify.labelled import BLIND_SET, Labelled, read_jsonl, training_files, truth_records
from pipeline.classify.metrics import set_f1
from pipeline.classify.paths import default_model_dir
from pipeline.classify.scoring import CUE_GAIN_MARGIN, CUE_MISS_GRID, SECONDARY_GRID, Scoring, fit_calibration
from pipeline.contract import CATEGORIES

HERE = Path(__file__).parent
CONFIG = HERE / "config.cfg"


class TrainingSettings(TypedDict):
    """config.cfg's [training] values that train.py reads."""

    seed: int
    members: int
    # A config written before the bag-of-words member (an analyst's, for the
    # retraining job) has none: its committee is its own members.
    other_members: NotRequired[list[str]]
    max_epochs: int
    dropout: float
    batch_size: int
    secondary_target: float
    validation_share: float


def settings(config_path: Path = CONFIG) -> TrainingSettings:
    training: TrainingSettings = load_config(config_path, interpolate=True)["training"]
    return training


def committee(config_path: Path = CONFIG) -> list[Path]:
    """The config of each committee member, in member order: the config's
    own `members`, then each of its `other_members` (a path from its folder)."""
    options = settings(config_path)
    return [config_path] * options["members"] + [config_path.parent / name for name in options.get("other_members", [])]


def prepare(records: list[Labelled], reader: StatementReader | None = None) -> list[tuple[Doc, list[str]]]:
    """Read docs, each with its categories (primary first)."""
    reader = reader or StatementReader()
    docs = reader.read([r["text"] for r in records])
    return [(doc, record["categories"]) for doc, record in zip(docs, records)]


def example(doc: Doc, categories: list[str], secondary_target: float) -> Example:
    reference = doc.copy()
    reference.cats = {
        code: 1.0 if code == categories[0] else secondary_target if code in categories else 0.0
        for code in CATEGORIES
    }
    return Example(doc, reference)


def train(labelled: list[tuple[Doc, list[str]]], config_path: Path = CONFIG, member: int = 0) -> Language:
    """One textcat, trained on prepared docs (scoring: `fit`). Each member
    of the committee has its own seed: the config's plus its number."""
    config = load_config(config_path, interpolate=True)
    options: TrainingSettings = config["training"]
    seed = options["seed"] + member
    fix_random_seed(seed)
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    examples = [example(doc, categories, options["secondary_target"]) for doc, categories in labelled]
    # spaCy types every component as a Doc → Doc callable; config.cfg's is a
    # graded multi-label textcat (components.GradedTextCategorizer).
    textcat = cast(MultiLabel_TextCategorizer, nlp.get_pipe(TEXTCAT))
    for code in CATEGORIES:
        textcat.add_label(code)
    optimizer = nlp.initialize(lambda: examples)
    rng = random.Random(seed)
    for _ in range(options["max_epochs"]):
        rng.shuffle(examples)
        for start in range(0, len(examples), options["batch_size"]):
            nlp.update(examples[start:start + options["batch_size"]], sgd=optimizer, drop=options["dropout"])
    _keep_averages(textcat.model, optimizer.averages)
    return nlp


def _keep_averages(model: Model[Any, Any], averages: Mapping[tuple[int, str], FloatsXd] | None) -> None:
    """Replace the last weights by their running averages (what `spacy train`
    saves when `use_averages` is on): they depend less on the last batches."""
    if averages is None:  # config.cfg's optimizer keeps them (use_averages = true)
        raise TypeError("the optimizer kept no running averages (use_averages)")
    for node in model.walk():
        for name in node.param_names:
            if (node.id, name) in averages:
                node.set_param(name, averages[(node.id, name)])


def choose_scoring(classifier: Classifier, validation: list[Labelled], cue_miss: float | None = None) -> Scoring:
    """The cue weight with the best strict accuracy on the validation split
    (cues kept only if they beat ignoring them by CUE_GAIN_MARGIN), unless
    given, then the calibration of the score under that weight, and the
    least score of a secondary category with the best category-set F1."""
    evidence = classifier.evidence([r["text"] for r in validation])
    truths = [r["categories"][0] for r in validation]
    if cue_miss is None:
        cue_miss = _best_cue_weight(classifier, evidence, truths)
    predictions = [classifier.decide(e, Scoring(cue_miss=cue_miss)) for e in evidence]
    weights = fit_calibration([p.doubt for p in predictions], [p.category == t for p, t in zip(predictions, truths)])
    sets = [r["categories"] for r in validation]
    secondary = max(SECONDARY_GRID, key=lambda least: (
        set_f1(sets, [classifier.decide(e, Scoring(cue_miss=cue_miss, secondary=least)) for e in evidence]), least))
    return Scoring(cue_miss=cue_miss, weights=weights, secondary=secondary)


def cues_hurt(classifier: Classifier, blind: list[Labelled], scoring: Scoring) -> bool:
    """The one choice the blind set makes (issue 13: cues are "dropped where
    they hurt the blind set"): cues written for one wording can mislead on
    another. True when the model is less accurate there with the chosen cue
    weight than ignoring the cues. It decides nothing else."""
    evidence = classifier.evidence([r["text"] for r in blind])
    truths = [r["categories"][0] for r in blind]
    return _accuracy(classifier, evidence, truths, scoring) < _accuracy(classifier, evidence, truths, Scoring(cue_miss=1.0))


def _best_cue_weight(classifier: Classifier, evidence: list[Evidence], truths: list[str]) -> float:
    without_cues = _accuracy(classifier, evidence, truths, Scoring(cue_miss=1.0))
    best = max(CUE_MISS_GRID, key=lambda miss: (_accuracy(classifier, evidence, truths, Scoring(cue_miss=miss)), miss))
    gain = _accuracy(classifier, evidence, truths, Scoring(cue_miss=best)) - without_cues
    return best if gain >= CUE_GAIN_MARGIN else 1.0


def _accuracy(classifier: Classifier, evidence: list[Evidence], truths: list[str], scoring: Scoring) -> float:
    return sum(classifier.decide(e, scoring).category == t for e, t in zip(evidence, truths)) / len(truths)


def split_by_group(records: list[Labelled], share: float, seed: int) -> tuple[list[Labelled], list[Labelled]]:
    """(training, validation): whole groups (documents) on one side."""
    groups = sorted({r.get("group", r["text"]) for r in records})
    random.Random(seed).shuffle(groups)
    held = set(groups[: max(1, round(len(groups) * share))])
    return ([r for r in records if r.get("group", r["text"]) not in held],
            [r for r in records if r.get("group", r["text"]) in held])


def train_committee(records: list[Labelled], reader: StatementReader, output: Path,
                    config_path: Path = CONFIG) -> None:
    """The committee's members, trained on the same docs, saved as member_0… in `output`."""
    labelled = prepare(records, reader)
    for member, member_config in enumerate(committee(config_path)):
        train(labelled, member_config, member).to_disk(output / f"{MEMBER_PREFIX}{member}")


def fit(records: list[Labelled], validation: list[Labelled] | None = None, output: Path | None = None,
        config_path: Path = CONFIG, reader: StatementReader | None = None,
        blind: list[Labelled] | None = None) -> Path:
    """Train, choose the scoring on the validation split, retrain on all,
    drop the cues if they hurt the final model on `blind`, save the model
    with its scoring into `output` (a new folder if None; an existing one
    is replaced whole, once the new model is complete)."""
    options = settings(config_path)
    reader = reader or StatementReader()
    if validation is None:
        records, validation = split_by_group(records, options["validation_share"], options["seed"])
    output = output or Path(tempfile.mkdtemp(prefix="egn-model-"))
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".model-", dir=output.parent))
    with tempfile.TemporaryDirectory() as tmp:
        train_committee(records, reader, Path(tmp), config_path)
        validating = Classifier(model_dir=Path(tmp))
        scoring = choose_scoring(validating, validation)
        train_committee(records + validation, reader, staging, config_path)
        if blind and scoring.cue_miss < 1.0 and cues_hurt(Classifier(model_dir=staging), blind, scoring):
            scoring = choose_scoring(validating, validation, cue_miss=1.0)
    scoring.save(staging)
    shutil.rmtree(output, ignore_errors=True)
    staging.rename(output)
    return output


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the statement classifier.")
    parser.add_argument("--data", type=Path, nargs="+", default=None,
                        help="labelled statements (JSON lines: text, categories); default: pipeline/data/train*.jsonl")
    parser.add_argument("--validation", type=Path, nargs="*", default=[],
                        help="truth folders that choose the cue weight and calibration, then are learnt too (e.g. a dev corpus)")
    parser.add_argument("--output", type=Path, default=default_model_dir())
    args = parser.parse_args(argv)
    records = [record for path in (args.data or training_files()) for record in read_jsonl(path)]
    validation = [record for folder in args.validation for record in truth_records(folder)] or None
    fit(records, validation, args.output, blind=read_jsonl(BLIND_SET))
    scoring = Scoring.load(args.output)
    print(f"{len(records) + len(validation or [])} énoncés d'entraînement ; poids des indices {scoring.cue_miss} ; "
          f"modèle écrit dans {args.output}")


if __name__ == "__main__":
    main()
