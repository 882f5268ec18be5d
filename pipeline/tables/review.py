"""The review queue: which classified items an analyst should check first.

An analyst's time goes furthest on the items most likely to be wrong and
whose error would move the national figures most. Each item not yet
corrected gets:

- an estimated probability that its primary category is wrong: one minus
  `category_score`, the classifier's calibrated probability that it is
  right. Calibration (pipeline/classify/scoring.py) already weighs a close
  runner-up (`Item.category_margin`) and a disagreement of the model and
  the cues (`Item.model_category`, `Item.cue_category`), as fitted on a
  validation split; here they only explain, in `why`;
- a weight: higher for an item of a recurring statement (it is counted in
  a finding several départements share), lower for an item of a document
  the aggregates do not count (superseded session, PDF export of a DOCX).

The expected benefit of a check is their product; the queue holds the
items whose probability of error is at least `MIN_ERROR`, and every item
of a scan the OCR read with a mean word confidence below `OCR_DOUBT` (its
text may be misread, whatever its category's score), the highest benefit
first. The three classifier signals may be missing (None): the
estimate then rests on the score alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipeline.contract import CORRECTION_FIELDS
from pipeline.labels import category_labels
from pipeline.tables.aggregate import counted_ids
from pipeline.tables.schemas import COLUMNS

LOW_SCORE = 0.6  # a score below this is called low in `why`
CLOSE_MARGIN = 0.15  # a runner-up this close to the primary category is named in `why`
UNKNOWN_SCORE = 0.5  # the score assumed for an item the classifier left unscored
RECURRING_WEIGHT = 0.5  # an item of a recurring statement weighs 1.5 times as much
NOT_COUNTED_WEIGHT = 0.5  # an item outside the aggregates weighs half as much
MIN_ERROR = 0.05  # items the estimate puts below this are left out of the queue (unless doubtfully read)
OCR_DOUBT = 0.85  # a scan read with a mean word confidence below this puts its items in the queue


@dataclass(frozen=True)
class Signals:
    """What the queue knows of one classified item."""

    category: str
    score: float | None
    margin: float | None = None
    model_category: str | None = None
    cue_category: str | None = None
    recurring_departements: int = 0  # départements of its recurring statement, 0 if none
    counted: bool = True  # in a document the aggregates count
    ocr_confidence: float | None = None  # its document's mean OCR word confidence, None when not a scan

    @property
    def doubtful_reading(self) -> bool:
        """Read from a scan whose words the OCR was unsure of: the text itself
        may be wrong, whatever the category's score."""
        return self.ocr_confidence is not None and self.ocr_confidence < OCR_DOUBT

    @property
    def close_second(self) -> bool:
        return self.margin is not None and self.margin < CLOSE_MARGIN

    @property
    def disagreement(self) -> bool:
        return self.model_category is not None and self.cue_category is not None \
            and self.model_category != self.cue_category

    def error(self) -> float:
        """Estimated probability that the primary category is wrong."""
        return min(max(1.0 - (self.score if self.score is not None else UNKNOWN_SCORE), 0.0), 1.0)

    def benefit(self) -> float:
        weight = (1.0 + RECURRING_WEIGHT if self.recurring_departements else 1.0) \
            * (1.0 if self.counted else NOT_COUNTED_WEIGHT)
        return self.error() * weight

    def why(self) -> str:
        """The signals behind the item's place, as a French sentence."""
        labels = category_labels()
        score = "inconnu" if self.score is None else _decimal(self.score)
        parts = [f"Score de confiance {score}" + (" (faible)" if self.score is None or self.score < LOW_SCORE else "")]
        if self.close_second and self.margin is not None:
            parts.append(f"deuxième catégorie proche (écart {_decimal(self.margin)})")
        if self.disagreement and self.model_category is not None and self.cue_category is not None:
            parts.append(f"le modèle propose « {labels.get(self.model_category, self.model_category)} », "
                         f"les indices lexicaux « {labels.get(self.cue_category, self.cue_category)} »")
        if self.recurring_departements:
            parts.append(f"constat récurrent de {self.recurring_departements} départements, "
                         "qui pèse sur les chiffres nationaux")
        if not self.counted:
            parts.append("document non compté dans les agrégats")
        if self.doubtful_reading and self.ocr_confidence is not None:
            parts.append(f"texte lu par reconnaissance de caractères, confiance {_decimal(self.ocr_confidence)}")
        return " ; ".join(parts) + "."


def _decimal(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def _recurring_departements(recurring: pd.DataFrame) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for item_ids, n in zip(recurring["item_ids"], recurring["n_departements"]):
        for item_id in item_ids:
            sizes[item_id] = max(sizes.get(item_id, 0), int(n))
    return sizes


def review_queue(items: pd.DataFrame, signals: pd.DataFrame, documents: pd.DataFrame,
                 recurring: pd.DataFrame) -> pd.DataFrame:
    """The queue (contract v1.1): classified items not corrected by an analyst,
    ranked by the expected benefit of a check, with empty correction columns.

    `signals` holds the classifier's margin and its model and cue categories
    by item_id (`tables.review_signals`).
    """
    extra = signals.set_index("item_id").to_dict("index") if not signals.empty else {}
    in_recurring = _recurring_departements(recurring)
    counted = counted_ids(documents) if not documents.empty else set()
    source_files = dict(zip(documents["document_id"], documents["source_file"]))
    ocr_confidences = {document_id: confidence for document_id, ocr, confidence
                       in zip(documents["document_id"], documents["ocr"], documents["ocr_confidence"]) if ocr is True}
    # The queue's rows: the items' cells (of every type), its own columns and the benefit that ranks them.
    rows: list[dict[str, Any]] = []
    for row in items.to_dict("records"):
        if not row["category"] or row["category_source"] == "analyst":
            continue
        known = extra.get(row["item_id"], {})
        item = Signals(
            category=row["category"], score=row["category_score"], margin=known.get("category_margin"),
            model_category=known.get("model_category"), cue_category=known.get("cue_category"),
            recurring_departements=in_recurring.get(row["item_id"], 0), counted=row["document_id"] in counted,
            ocr_confidence=ocr_confidences.get(row["document_id"]),
        )
        if item.error() < MIN_ERROR and not item.doubtful_reading:
            continue
        rows.append({**{column: row.get(column) for column in COLUMNS["review_queue"]},
                     "source_file": source_files.get(row["document_id"]), "why": item.why(),
                     **{column: None for column in [*CORRECTION_FIELDS, "exclude", "comment"]},
                     "_benefit": item.benefit()})
    rows.sort(key=lambda row: (-row["_benefit"], row["item_id"]))
    for rank, queued in enumerate(rows, start=1):
        queued["rank"] = rank
    return pd.DataFrame(rows, columns=COLUMNS["review_queue"], dtype=object)


def flag_for_review(items: pd.DataFrame, queue: pd.DataFrame) -> pd.DataFrame:
    """items.csv's `needs_review`: whether the item is in the review queue."""
    items = items.copy()
    queued = set(queue["item_id"])
    items["needs_review"] = pd.Series([item_id in queued for item_id in items["item_id"]], index=items.index,
                                      dtype=object)
    return items
