"""Grounding quality against ground-truth boxes: recall at an IoU threshold and mean IoU.

A sample's IoU is that of its best prediction against its best-matching ground-truth box (a sample
may have several truth boxes, e.g. the two objects of a relative-position question); a sample with
no prediction scores 0 (a miss, not a skip). Samples without ground truth are counted, not scored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from vzero_core.boxes import Box


@dataclass(frozen=True)
class GroundingScore:
    """``recall``: share of scored samples whose IoU >= ``iou_threshold``; ``mean_iou`` over them."""

    samples: int
    recall: float
    mean_iou: float
    without_prediction: int
    iou_threshold: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def sample_iou(predictions: Sequence[Box], truths: Sequence[Box]) -> float:
    """Best IoU between any prediction and any truth box; 0.0 without predictions."""
    if not truths:
        raise ValueError("sample_iou needs at least one ground-truth box")
    return max((p.iou(t) for p in predictions for t in truths), default=0.0)


def grounding_score(
    pairs: Iterable[tuple[Sequence[Box], Sequence[Box]]], *, iou_threshold: float = 0.5
) -> GroundingScore:
    """Score ``(predictions, truths)`` pairs, one per sample with ground truth."""
    if not 0.0 < iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
    ious, empty = [], 0
    for predictions, truths in pairs:
        empty += not predictions
        ious.append(sample_iou(predictions, truths))
    n = len(ious)
    return GroundingScore(
        samples=n,
        recall=sum(iou >= iou_threshold for iou in ious) / n if n else 0.0,
        mean_iou=sum(ious) / n if n else 0.0,
        without_prediction=empty,
        iou_threshold=iou_threshold,
    )
