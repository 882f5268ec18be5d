"""Measure the classifier: `make eval` (python -m pipeline.classify.evaluate).

The figures come in order of honesty:

1. the frozen blind set (`pipeline/data/blind_test.jsonl`, its SHA-256
   printed): statements written from the contract's category table, the
   taxonomy's definitions and the seed only, by hands that never saw the
   training files; never trained on, never used to choose anything;
2. the seed (the real Sarthe restitution's truth), never trained on;
3. the statements of other truth folders that the shipped model never
   learnt (e.g. the national corpus's statements that are in neither the
   training files nor the dev corpus): wording of the corpus's authors
   that no training statement was written against;
4. truth folders held out (e.g. the dev corpus), with a model trained
   without them. Training statements were written while looking at dev
   errors, so this one is optimistic;
5. throughput on one core, model load time and peak memory.

Each test set gets strict, lenient, macro-F1, set-F1, per-category
precision and recall, the top confusions, a calibration table and the
precision of a review queue ranked by doubt (share of misclassified items
in its top 5, 10 and 20 %, and the strict accuracy once they are
corrected; `metrics.py`); the blind set also its figures with the cues
ignored, to show what the cues bring on wording nobody tuned them for.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from pipeline.classify.classifier import Classifier, Evidence, Prediction
from pipeline.classify.labelled import BLIND_SET, Labelled, own_records, read_jsonl, truth_records
from pipeline.classify.metrics import Scores, expected_calibration_error, review_precision, scores
from pipeline.classify.scoring import Scoring
from pipeline.classify.train import fit
from pipeline.tables.review import Signals
from pipeline.text import fold

THROUGHPUT_REPEAT = 4


def review_benefit(prediction: Prediction) -> float:
    """The review queue's own ranking (pipeline/tables/review.py), for a statement
    that belongs to no recurring group."""
    return Signals(prediction.category, prediction.score, prediction.margin, prediction.model_category,
                   prediction.cue_category).benefit()


def blind_set_hash(path: Path = BLIND_SET) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def evaluate(classifier: Classifier, records: list[Labelled], evidence: list[Evidence] | None = None) -> Scores:
    """The figures of `records`, from their `evidence` when already computed."""
    truths = [r["categories"] for r in records]
    evidence = evidence if evidence is not None else classifier.evidence([r["text"] for r in records])
    predictions = [classifier.decide(e) for e in evidence]
    report = scores(truths, predictions)
    report["calibration_error"] = expected_calibration_error(report["calibration"])
    report["review_queue"] = review_precision(truths, predictions, [review_benefit(p) for p in predictions])
    return report


def blind(classifier: Classifier, path: Path = BLIND_SET) -> dict[str, Any]:
    """The blind set's figures, its file and hash, and its figures without the cues (a JSON report)."""
    records = read_jsonl(path)
    evidence = classifier.evidence([r["text"] for r in records])
    report: dict[str, Any] = {"file": str(path.name), "sha256": blind_set_hash(path),
                              **evaluate(classifier, records, evidence)}
    without = scores([r["categories"] for r in records],
                     [classifier.decide(e, Scoring(cue_miss=1.0)) for e in evidence])
    report["without_cues"] = {"strict": without["strict"], "lenient": without["lenient"],
                              "macro_f1": without["macro_f1"], "set_f1": without["set_f1"]}
    return report


def unseen(records: list[Labelled], learnt: list[Labelled]) -> list[Labelled]:
    """The `records` whose text, folded, is not among the `learnt` ones: a
    figure on statements the model learnt says how well it remembers, not
    how well it reads new wording."""
    known = {fold(r["text"]) for r in learnt}
    return [r for r in records if fold(r["text"]) not in known]


def held_out(test_records: list[Labelled]) -> Scores:
    """A model trained on the project's statements only, tested on `test_records`."""
    with tempfile.TemporaryDirectory() as tmp:
        fit(own_records(), None, Path(tmp), blind=read_jsonl(BLIND_SET))
        return evaluate(Classifier(model_dir=Path(tmp)), test_records)


def throughput(texts: list[str], repeat: int = THROUGHPUT_REPEAT) -> dict[str, float]:
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


def summary_line(name: str, report: Scores | dict[str, Any]) -> str:
    return (f"{name:<28} n={report['n']:<5} strict {report['strict']:.3f}  lenient {report['lenient']:.3f}  "
            f"macro-F1 {report['macro_f1']:.3f}  set-F1 {report['set_f1']:.3f}  "
            f"calibration error {report['calibration_error']:.3f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate the statement classifier.")
    parser.add_argument("--seed-truth", type=Path, nargs="*", default=[],
                        help="truth folders never trained on, tested with the shipped model (e.g. the seed)")
    parser.add_argument("--held-out", type=Path, nargs="*", default=[],
                        help="truth folders tested with a model trained without them (e.g. the dev corpus)")
    parser.add_argument("--unseen", type=Path, nargs="*", default=[],
                        help="truth folders tested with the shipped model on their statements it never learnt "
                             "(in neither the training files nor the --held-out folders, which `make train` "
                             "also learns from)")
    parser.add_argument("--json", type=Path, help="write the report here too")
    args = parser.parse_args(argv)

    throughput_report = throughput([r["text"] for r in own_records()])
    classifier = Classifier()
    report: dict[str, Any] = {"blind": blind(classifier)}
    print(f"Jeu aveugle {BLIND_SET.name} sha256 {report['blind']['sha256']}")
    print(summary_line("blind", report["blind"]))
    for folder in args.seed_truth:
        report[f"seed:{folder}"] = evaluate(classifier, truth_records(folder))
        print(summary_line(f"seed {folder.parent.name}", report[f"seed:{folder}"]))
    learnt = own_records() + [r for folder in args.held_out for r in truth_records(folder)]
    for folder in args.unseen:
        report[f"unseen:{folder}"] = evaluate(classifier, unseen(truth_records(folder), learnt))
        print(summary_line(f"unseen {folder.parent.name}", report[f"unseen:{folder}"]))
    for folder in args.held_out:
        report[f"held_out:{folder}"] = held_out(truth_records(folder))
        print(summary_line(f"held out {folder.parent.name}", report[f"held_out:{folder}"]))
    report["throughput"] = throughput_report
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
