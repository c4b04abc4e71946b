"""Pipeline-level quality checks on a sample's finished views, configured by the recipe's ``checks``.

Each check is a pure function of the views; the first failure rejects the sample with the check's
name as the reason, so the store's ``rejects`` table says exactly which check refused what. The
view strategies enforce their own geometric rules when they build a view; these checks guard the
result whatever strategy (or plugin) produced it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from vzero_data.pipeline.recipe import ChecksConfig


class CheckedView(Protocol):
    kind: str
    strategy: str
    pixels: np.ndarray
    overlap_target: float


# A check returns None when the views pass, else a human-readable detail.
Check = Callable[[Sequence[CheckedView], ChecksConfig], "str | None"]


def _label(i: int, view: CheckedView) -> str:
    return f"view {i} ({view.kind} {view.strategy})"


def view_too_small(views: Sequence[CheckedView], cfg: ChecksConfig) -> str | None:
    for i, v in enumerate(views):
        h, w = v.pixels.shape[:2]
        if min(h, w) < cfg.min_view_side:
            return f"{_label(i, v)} is {w}x{h}, below min_view_side {cfg.min_view_side}"
    return None


def negative_shows_target(views: Sequence[CheckedView], cfg: ChecksConfig) -> str | None:
    for i, v in enumerate(views):
        if v.kind == "negative" and v.overlap_target > cfg.max_target_overlap + 1e-9:
            return (
                f"{_label(i, v)} contains {v.overlap_target:.1%} of the target box, "
                f"above max_target_overlap {cfg.max_target_overlap:.1%}"
            )
    return None


def flat_view(views: Sequence[CheckedView], cfg: ChecksConfig) -> str | None:
    if cfg.min_pixel_std <= 0:
        return None
    for i, v in enumerate(views):
        std = float(np.asarray(v.pixels, dtype=np.float32).std())
        if std < cfg.min_pixel_std:
            return f"{_label(i, v)} is nearly uniform (pixel std {std:.2f} < {cfg.min_pixel_std})"
    return None


def duplicate_view(views: Sequence[CheckedView], cfg: ChecksConfig) -> str | None:
    if not cfg.reject_duplicate_views:
        return None
    seen: dict[tuple[Any, str], int] = {}
    for i, v in enumerate(views):
        key = (v.pixels.shape, hashlib.blake2b(np.ascontiguousarray(v.pixels).data).hexdigest())
        if key in seen:
            j = seen[key]
            return f"{_label(i, v)} has the same pixels as {_label(j, views[j])}"
        seen[key] = i
    return None


CHECKS: dict[str, Check] = {
    "view_too_small": view_too_small,
    "negative_shows_target": negative_shows_target,
    "flat_view": flat_view,
    "duplicate_view": duplicate_view,
}


def first_failure(views: Sequence[CheckedView], cfg: ChecksConfig) -> tuple[str, str] | None:
    """``(check name, detail)`` of the first failing check, or None when all pass."""
    for name, check in CHECKS.items():
        detail = check(views, cfg)
        if detail is not None:
            return name, detail
    return None
