"""Measure the classifier: `make eval` (python -m pipeline.classify.evaluate).

Reports, like the project's scorer: strict accuracy (primary category =
truth's primary), lenient accuracy (primary among the truth's categories),
macro-F1 over the truth's primary labels and F1 of the category sets
(`categories` against the truth's), with the top confusions.

- 5-fold cross-validation grouped by document over every labelled
  statement (the project's own statements count as one group each);
- a held-out evaluation on truth folders (e.g. ../shared/corpus/dev/truth)
  with a model trained without them;
- throughput on one core, model load time and peak memory.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path

from pipeline.classify.classifier import Classifier, Prediction
from pipeline.classify.labelled import own_records, truth_records
from pipeline.classify.train import lemmatiser, prepare, train

ROLES = {"irritant", "point_fort", "besoin", "levier", "action", "difficulte"}


def scores(truths: list[list[str]], predictions: list[Prediction]) -> dict:
    predicted = [p.category for p in predictions]
    strict = sum(p == t[0] for p, t in zip(predicted, truths))
    lenient = sum(p in t for p, t in zip(predicted, truths))
    labels = sorted({t[0] for t in truths})
    f1s = []
    for label in labels:
        tp = sum(p == label and t[0] == label for p, t in zip(predicted, truths))
        fp = sum(p == label and t[0] != label for p, t in zip(predicted, truths))
        fn = sum(p != label and t[0] == label for p, t in zip(predicted, truths))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    found = [set(p.categories) for p in predictions]
    hits = sum(len(f & set(t)) for f, t in zip(found, truths))
    set_f1 = 2 * hits / (sum(map(len, found)) + sum(map(len, truths)) or 1)
    confusions = Counter((t[0], p) for p, t in zip(predicted, truths) if p != t[0]).most_common(10)
    n = len(truths) or 1
    return {
        "n": len(truths), "strict": round(strict / n, 3), "lenient": round(lenient / n, 3),
        "macro_f1": round(sum(f1s) / len(f1s), 3) if f1s else 0.0, "set_f1": round(set_f1, 3),
        "confusions": [f"{a} → {b} : {k}" for (a, b), k in confusions],
    }


def _fit_and_predict(train_records: list[dict], test_texts: list[str], nlp) -> list[Prediction]:
    model = train(prepare(train_records, nlp))
    with tempfile.TemporaryDirectory() as tmp:
        model.to_disk(tmp)
        classifier = Classifier(model_dir=Path(tmp))
        return classifier.classify(test_texts)


def cross_validation(records: list[dict], folds: int = 5, seed: int = 13) -> dict:
    groups = sorted({r["group"] for r in records})
    random.Random(seed).shuffle(groups)
    fold_of = {group: i % folds for i, group in enumerate(groups)}
    nlp = lemmatiser()
    truths, predicted = [], []
    for fold in range(folds):
        test = [r for r in records if fold_of[r["group"]] == fold]
        train_records = [r for r in records if fold_of[r["group"]] != fold]
        predicted += _fit_and_predict(train_records, [r["text"] for r in test], nlp)
        truths += [r["categories"] for r in test]
    return scores(truths, predicted)


def held_out(train_records: list[dict], test_records: list[dict]) -> dict:
    predicted = _fit_and_predict(train_records, [r["text"] for r in test_records], lemmatiser())
    return scores([r["categories"] for r in test_records], predicted)


def throughput(texts: list[str], repeat: int = 4) -> dict:
    started = time.perf_counter()
    classifier = Classifier()
    load = time.perf_counter() - started
    batch = texts * repeat
    started = time.perf_counter()
    classifier.classify(batch)
    elapsed = time.perf_counter() - started
    return {
        "model_load_s": round(load, 2),
        "statements": len(batch),
        "statements_per_s": round(len(batch) / elapsed),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate the statement classifier.")
    parser.add_argument("--held-out", type=Path, nargs="*", default=[],
                        help="truth folders evaluated with a model trained without them")
    parser.add_argument("--extra", type=Path, nargs="*", default=[],
                        help="truth folders added to the labelled data of the cross-validation")
    parser.add_argument("--json", type=Path, help="write the report here too")
    args = parser.parse_args(argv)

    own = own_records()
    extra = [r for folder in args.extra for r in truth_records(folder)]
    report: dict = {"labelled": len(own) + len(extra)}
    report["cross_validation"] = cross_validation(own + extra)
    for folder in args.held_out:
        test = truth_records(folder)
        report[f"held_out:{folder}"] = held_out(own, test)
    report["throughput"] = throughput([r["text"] for r in own])
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
