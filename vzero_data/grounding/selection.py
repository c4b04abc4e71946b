"""Selection policy: which of a grounder's regions become the sample's evidence, or why none do.

A sample is rejected (never silently dropped) with one of :data:`REJECTION_REASONS`:
``no_box`` (nothing found, or nothing above ``min_score``), ``box_too_large`` (the evidence covers
too much of the image to be fine-grained; the paper's source kept boxes under 10% of the area),
``box_too_small`` (a sliver no crop can show), and ``grounders_disagree`` (raised by
:func:`vzero_data.grounding.cross_check.cross_check`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vzero_core.boxes import union_box
from vzero_data.grounding.region import Region

REJECTION_REASONS = ("no_box", "box_too_large", "box_too_small", "grounders_disagree")


class GroundingRejected(Exception):
    """A sample whose grounding cannot be used; ``reason`` is one of :data:`REJECTION_REASONS`."""

    def __init__(self, reason: str, detail: str) -> None:
        if reason not in REJECTION_REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}; known: {', '.join(REJECTION_REASONS)}")
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class SelectionPolicy(BaseModel):
    """How to pick evidence regions.

    ``mode``: ``top1`` keeps the best-scoring acceptable region; ``all`` keeps every acceptable
    region above ``min_score``; ``union`` merges those into one box (score = the best score).
    Size limits apply to each candidate (to the merged box for ``union``); candidates that break
    them are skipped, and when none is left the best-scoring candidate's failure is the reason.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["top1", "all", "union"] = "top1"
    min_score: float = Field(0.0, ge=0.0)
    max_area_ratio: float = Field(0.1, gt=0.0, le=1.0)
    min_area_ratio: float = Field(0.0, ge=0.0, lt=1.0)
    min_side: float = Field(4.0, ge=0.0, description="shortest box side in original pixels")

    @model_validator(mode="after")
    def _ratios_ordered(self) -> SelectionPolicy:
        if self.min_area_ratio >= self.max_area_ratio:
            raise ValueError(
                f"min_area_ratio ({self.min_area_ratio}) must be below max_area_ratio ({self.max_area_ratio})"
            )
        return self


def size_problem(
    region: Region, width: int, height: int, policy: SelectionPolicy
) -> GroundingRejected | None:
    """Why ``region``'s box breaks the policy's size limits, or None when it is acceptable."""
    box = region.box
    ratio = box.area_ratio(width, height)
    if ratio > policy.max_area_ratio:
        return GroundingRejected(
            "box_too_large",
            f"box {_fmt(box.to_list())} covers {ratio:.1%} of the {width}x{height} image "
            f"(max_area_ratio {policy.max_area_ratio:.1%})",
        )
    if min(box.width, box.height) < policy.min_side:
        return GroundingRejected(
            "box_too_small",
            f"box {_fmt(box.to_list())} is {box.width:.1f}x{box.height:.1f} px (min_side {policy.min_side:g})",
        )
    if ratio < policy.min_area_ratio:
        return GroundingRejected(
            "box_too_small",
            f"box {_fmt(box.to_list())} covers {ratio:.3%} of the image (min_area_ratio {policy.min_area_ratio:.3%})",
        )
    return None


def select_regions(regions: list[Region], width: int, height: int, policy: SelectionPolicy) -> list[Region]:
    """Apply ``policy`` to one image's regions; raises :class:`GroundingRejected` when none qualify."""
    if not regions:
        raise GroundingRejected("no_box", "the grounder found no box")
    ranked = sorted(regions, key=lambda r: r.score, reverse=True)
    candidates = [r for r in ranked if r.score >= policy.min_score]
    if not candidates:
        raise GroundingRejected(
            "no_box", f"best score {ranked[0].score:.3f} is below min_score {policy.min_score:g}"
        )
    if policy.mode == "union":
        merged = Region(
            box=union_box([r.box for r in candidates]),
            score=candidates[0].score,
            phrase=candidates[0].phrase,
            provenance={**candidates[0].provenance, "merged_regions": len(candidates)},
        )
        candidates = [merged]
    kept = [r for r in candidates if size_problem(r, width, height, policy) is None]
    if not kept:
        raise size_problem(candidates[0], width, height, policy)  # type: ignore[misc]
    return kept[:1] if policy.mode == "top1" else kept


def _fmt(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:.1f}" for v in values) + "]"
