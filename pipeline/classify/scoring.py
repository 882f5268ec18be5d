"""How the model's probabilities and the taxonomy's cues become a score.

Two signals, combined as independent evidence: with p the model's
probability of a category and h the number of the category's cues found
in the statement,

    combined = 1 - (1 - p) * cue_miss ** h

so a cue lifts a category, and a category the model has never seen (added
to the taxonomy file later) can still be chosen from its cues. cue_miss
(1 = cues ignored) is not a constant: training chooses it on a validation
split the model did not learn from (cues written for one wording can hurt
on another: "…, en lien avec les collectivités" fires a governance cue on a
statement about devices).

`category_score` is then the calibrated probability that the primary
category is right: a logistic regression on three signals of doubt (the
logit of the primary's combined score, its margin over the runner-up, and
whether the model alone or the cues alone would choose another category),
fitted on the same validation split, so that of the items scored about 0.8
about 80 % are right, and the items most likely wrong score lowest: what
the review queue ranks by. The choices are stored beside the model
(`scoring.json`): a retrained model brings its own.

`categories` lists, after the primary, every category whose combined score
reaches `secondary`, chosen on the same split for category-set F1: a
committee's averaged probabilities seldom put a second topic above 0.5.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy

SCORING_FILE = "scoring.json"
# Cue weights tried on the validation split (1.0: the cues are ignored).
CUE_MISS_GRID = (0.3, 0.45, 0.6, 0.75, 0.9, 1.0)
# A validation choice must beat ignoring the cues by this much strict accuracy
# to keep them (a tie means the cues bring nothing the model does not know).
CUE_GAIN_MARGIN = 0.005
# Least combined scores of a secondary category tried on the validation split
# (for category-set F1); the largest of the best is kept. 0.5 is the
# textcat's own threshold, and what a model stored without a choice uses.
SECONDARY_GRID = (0.3, 0.35, 0.4, 0.45, 0.5)
DEFAULT_SECONDARY = 0.5
# Probabilities are kept away from 0 and 1 before taking their logit.
LOGIT_EPSILON = 1e-6
NEWTON_STEPS = 50
CONVERGED = 1e-8
RIDGE = 1e-3


@dataclass(frozen=True)
class Doubt:
    """What calibration reads of a prediction."""

    combined: float  # the primary's combined score
    margin: float  # combined score of the primary minus the runner-up's
    disagreement: bool  # the model alone, or the cues alone, choose another category

    def features(self) -> list[float]:
        return [_logit(self.combined), self.margin, float(self.disagreement), 1.0]


@dataclass(frozen=True)
class Scoring:
    cue_miss: float = 1.0
    # category_score = sigmoid(weights · Doubt.features()); the default is
    # the identity on the combined score.
    weights: tuple[float, ...] = (1.0, 0.0, 0.0, 0.0)
    # A category other than the primary is among `categories` from this combined score.
    secondary: float = DEFAULT_SECONDARY

    def combine(self, probability: float, cue_hits: int) -> float:
        return 1 - (1 - probability) * self.cue_miss ** cue_hits

    def calibrate(self, doubt: Doubt) -> float:
        return _sigmoid(sum(w * x for w, x in zip(self.weights, doubt.features())))

    def save(self, model_dir: Path) -> None:
        (model_dir / SCORING_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, model_dir: Path) -> Scoring:
        path = model_dir / SCORING_FILE
        if not path.exists():
            return cls()
        stored = json.loads(path.read_text(encoding="utf-8"))
        return cls(cue_miss=stored["cue_miss"], weights=tuple(stored["weights"]),
                   secondary=stored.get("secondary", DEFAULT_SECONDARY))


def fit_calibration(doubts: list[Doubt], correct: list[bool]) -> tuple[float, ...]:
    """Logistic regression of correctness on the doubt features (Newton's
    method, a small ridge so that a signal that never varies stays 0)."""
    design = numpy.array([doubt.features() for doubt in doubts])
    y = numpy.array(correct, dtype=float)
    weights = numpy.zeros(design.shape[1])
    ridge = RIDGE * numpy.eye(design.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1 / (1 + numpy.exp(-(design @ weights)))
        gradient = design.T @ (y - p) - ridge @ weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design + ridge
        step = numpy.linalg.solve(hessian, gradient)
        weights = weights + step
        if numpy.abs(step).max() < CONVERGED:
            break
    return tuple(round(float(w), 4) for w in weights)


def _logit(p: float) -> float:
    p = min(max(p, LOGIT_EPSILON), 1 - LOGIT_EPSILON)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))
