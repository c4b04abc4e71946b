"""Cross-check two grounders: keep only the boxes a second, independent grounder agrees with.

Two detectors with different failure modes (e.g. Grounding DINO and OWLv2, or a detector and a
Qwen-VL model) rarely agree on a wrong box, so agreement above an IoU is cheap evidence of a
correct localization.
"""

from __future__ import annotations

from collections.abc import Sequence

from vzero_data.grounding.region import Region
from vzero_data.grounding.selection import GroundingRejected


def cross_check(
    regions: Sequence[Region], reference: Sequence[Region], *, min_iou: float = 0.5
) -> list[Region]:
    """The ``regions`` whose box overlaps some ``reference`` box with IoU >= ``min_iou``.

    Each kept region's provenance gains ``cross_check`` (the reference backend/model and the IoU).
    Raises ``GroundingRejected("no_box")`` when ``regions`` is empty and
    ``GroundingRejected("grounders_disagree")`` when nothing agrees.
    """
    if not 0.0 < min_iou <= 1.0:
        raise ValueError(f"min_iou must be in (0, 1], got {min_iou}")
    if not regions:
        raise GroundingRejected("no_box", "the primary grounder found no box")
    if not reference:
        raise GroundingRejected("grounders_disagree", "the reference grounder found no box")
    kept, best_overall = [], 0.0
    for region in regions:
        best = max(reference, key=lambda other: region.box.iou(other.box))
        iou = region.box.iou(best.box)
        best_overall = max(best_overall, iou)
        if iou >= min_iou:
            check = {
                "backend": best.provenance.get("backend"),
                "model": best.provenance.get("model"),
                "iou": round(iou, 4),
                "min_iou": min_iou,
            }
            kept.append(
                Region(region.box, region.score, region.phrase, {**region.provenance, "cross_check": check})
            )
    if not kept:
        raise GroundingRejected(
            "grounders_disagree",
            f"best IoU between {len(regions)} primary and {len(reference)} reference boxes is "
            f"{best_overall:.3f} (min_iou {min_iou:g})",
        )
    return kept
