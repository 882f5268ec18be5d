"""Classification figures, as the project's scorer computes them.

strict: the primary category is the truth's primary; lenient: the primary
is among the truth's categories; macro-F1 over the truth's primary labels;
set-F1: `categories` against the truth's. Per category precision and
recall of the primary, the most frequent confusions, and calibration: for
each decile of `category_score`, how many predictions fall there and how
many of them are right (a calibrated score is right that often).
"""

from __future__ import annotations

from collections import Counter
from typing import NotRequired, TypedDict

from pipeline.classify.classifier import Prediction

TOP_CONFUSIONS = 15
CALIBRATION_BINS = 10
# Shares of the items, ranked by doubt, that an analyst would check.
QUEUE_SHARES = (0.05, 0.10, 0.20)


class CategoryFigures(TypedDict):
    n: int
    precision: float
    recall: float
    f1: float


class CalibrationRow(TypedDict):
    scores: str
    n: int
    mean_score: float
    accuracy: float


class QueueRow(TypedDict):
    share: float
    n: int
    misclassified: float
    strict_after_correction: float
    gain: float


class Scores(TypedDict):
    """The figures of a test set (`scores`; `evaluate.evaluate` adds the last two)."""

    n: int
    strict: float
    lenient: float
    macro_f1: float
    set_f1: float
    per_category: dict[str, CategoryFigures]
    confusions: list[str]
    calibration: list[CalibrationRow]
    calibration_error: NotRequired[float]
    review_queue: NotRequired[list[QueueRow]]


def scores(truths: list[list[str]], predictions: list[Prediction]) -> Scores:
    predicted = [p.category for p in predictions]
    primaries = [t[0] for t in truths]
    n = len(truths) or 1
    per_category: dict[str, CategoryFigures] = {}
    for label in sorted(set(primaries) | set(predicted)):
        tp = sum(p == label and t == label for p, t in zip(predicted, primaries))
        fp = sum(p == label and t != label for p, t in zip(predicted, primaries))
        fn = sum(p != label and t == label for p, t in zip(predicted, primaries))
        per_category[label] = {
            "n": tp + fn,
            "precision": round(tp / (tp + fp), 3) if tp + fp else 0.0,
            "recall": round(tp / (tp + fn), 3) if tp + fn else 0.0,
            "f1": round(2 * tp / (2 * tp + fp + fn), 3) if tp else 0.0,
        }
    truth_labels = sorted(set(primaries))
    confusions = Counter((t, p) for p, t in zip(predicted, primaries) if p != t).most_common(TOP_CONFUSIONS)
    return {
        "n": len(truths),
        "strict": round(sum(p == t for p, t in zip(predicted, primaries)) / n, 3),
        "lenient": round(sum(p in t for p, t in zip(predicted, truths)) / n, 3),
        "macro_f1": round(sum(per_category[label]["f1"] for label in truth_labels) / len(truth_labels), 3)
        if truth_labels else 0.0,
        "set_f1": round(set_f1(truths, predictions), 3),
        "per_category": per_category,
        "confusions": [f"{a} → {b} : {k}" for (a, b), k in confusions],
        "calibration": calibration(predictions, [p == t for p, t in zip(predicted, primaries)]),
    }


def set_f1(truths: list[list[str]], predictions: list[Prediction]) -> float:
    """F1 of the predicted category sets against the truth's, over all items."""
    found = [set(p.categories) for p in predictions]
    hits = sum(len(f & set(t)) for f, t in zip(found, truths))
    return 2 * hits / (sum(map(len, found)) + sum(map(len, truths)) or 1)


def calibration(predictions: list[Prediction], correct: list[bool]) -> list[CalibrationRow]:
    """Accuracy per decile of score, and the expected calibration error."""
    rows: list[CalibrationRow] = []
    for b in range(CALIBRATION_BINS):
        low, high = b / CALIBRATION_BINS, (b + 1) / CALIBRATION_BINS
        inside = [(p.score, c) for p, c in zip(predictions, correct)
                  if low <= p.score < high or (b == CALIBRATION_BINS - 1 and p.score == 1.0)]
        if inside:
            rows.append({
                "scores": f"{low:.1f}–{high:.1f}", "n": len(inside),
                "mean_score": round(sum(s for s, _ in inside) / len(inside), 3),
                "accuracy": round(sum(c for _, c in inside) / len(inside), 3),
            })
    return rows


def expected_calibration_error(rows: list[CalibrationRow]) -> float:
    total = sum(row["n"] for row in rows) or 1
    return round(sum(row["n"] * abs(row["mean_score"] - row["accuracy"]) for row in rows) / total, 3)


def review_precision(truths: list[list[str]], predictions: list[Prediction],
                     priorities: list[float], shares: tuple[float, ...] = QUEUE_SHARES) -> list[QueueRow]:
    """For the top share of items by review priority: how many are
    misclassified (the queue's precision), and the strict accuracy once an
    analyst has corrected them."""
    wrong = [p.category != t[0] for p, t in zip(predictions, truths)]
    order = sorted(range(len(wrong)), key=lambda i: -priorities[i])
    n = len(wrong) or 1
    base = 1 - sum(wrong) / n
    rows: list[QueueRow] = []
    for share in shares:
        top = order[: max(1, round(share * len(order)))]
        fixed = sum(wrong[i] for i in top)
        rows.append({
            "share": share, "n": len(top),
            "misclassified": round(fixed / len(top), 3),
            "strict_after_correction": round(base + fixed / n, 3),
            "gain": round(fixed / n, 3),
        })
    return rows
