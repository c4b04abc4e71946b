"""``Region``: one scored box a grounder found for a phrase, in original-image pixels."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vzero_core.boxes import Box, BoxError


@dataclass(frozen=True)
class Region:
    """A box (original-image ``xyxy`` pixels, clipped to the image) with its score, the phrase it
    answers and the provenance of the grounder that produced it."""

    box: Box
    score: float
    phrase: str
    provenance: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "box": self.box.to_list(),
            "score": self.score,
            "phrase": self.phrase,
            "provenance": dict(self.provenance),
        }


def regions_from_xyxy(
    xyxy: Sequence[Sequence[float]],
    scores: Sequence[float],
    phrase: str,
    width: int,
    height: int,
    provenance: Mapping[str, Any],
    *,
    max_regions: int | None = None,
) -> list[Region]:
    """Turn raw detector boxes into clipped :class:`Region` objects, best score first.

    Boxes that are not finite or that lie entirely outside the ``width x height`` image are detector
    noise, not input rows, and are left out; everything else is clipped to the image.
    """
    regions = []
    for coords, score in zip(xyxy, scores, strict=True):
        values = [float(v) for v in coords]
        if not all(math.isfinite(v) for v in values) or not math.isfinite(float(score)):
            continue
        x1, x2 = sorted(values[0::2])
        y1, y2 = sorted(values[1::2])
        try:
            box = Box(x1, y1, x2, y2).clip(width, height)
        except BoxError:
            continue
        regions.append(Region(box=box, score=float(score), phrase=phrase, provenance=provenance))
    regions.sort(key=lambda r: r.score, reverse=True)
    return regions[:max_regions] if max_regions is not None else regions
