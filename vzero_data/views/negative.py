"""``negative_view``: run a registered strategy with checks, bounded re-sampling and provenance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from vzero_core.boxes import Box
from vzero_data.views.encoding import check_rgb
from vzero_data.views.errors import DEGENERATE_VIEW, OVERLAP_EXCEEDS_THRESHOLD, ViewRejected
from vzero_data.views.geometry import overlap, target_in_image
from vzero_data.views.params import NegativeParams
from vzero_data.views.pool import ImagePool
from vzero_data.views.registry import get_strategy
from vzero_data.views.seeds import attempt_rng
from vzero_data.views.strategy import Candidate, NegativeStrategy, StrategyContext
from vzero_data.views.view import View


def pixel_std(view: View) -> float:
    """Mean over channels of the pixel standard deviation: near 0 flags a flat, uninformative view."""
    return round(float(view.moments[1].mean()), 4)


def validate_params(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Check a strategy's params up front (e.g. when a recipe loads); returns them with defaults."""
    return get_strategy(name).make_params(params).to_dict()


def _problem(
    strategy: NegativeStrategy, cand: Candidate, target: Box, params: NegativeParams, ctx: StrategyContext
) -> tuple[str, str, bool] | None:
    """``(reason, message, retry)`` for a failed candidate, or ``None`` when it passes."""
    h, w = cand.pixels.shape[:2]
    if min(h, w) < params.min_side:
        return DEGENERATE_VIEW, f"{w}x{h} view is below min_side={params.min_side}", False
    if strategy.avoids_target and cand.box is not None:
        inside = target.intersection_over(cand.box)
        if inside > params.max_overlap:
            return (
                OVERLAP_EXCEEDS_THRESHOLD,
                f"window {cand.box.to_list()} holds {inside:.3f} of the target (max_overlap={params.max_overlap})",
                True,
            )
    if strategy.verify is not None:
        failed = strategy.verify(cand, target, params, ctx)
        if failed is not None:
            return (*failed, True)
    return None


def negative_view(
    name: str,
    image: np.ndarray,
    target: Box,
    params: Mapping[str, Any] | None = None,
    seed: int = 0,
    *,
    positive: View,
    pool: ImagePool | None = None,
    image_sha256: str | None = None,
) -> View:
    """A negative view of ``image`` for ``target`` made by strategy ``name``.

    Each attempt draws from its own generator ``(seed, attempt)``, so the result is a pure function
    of the arguments. A candidate that fails a check (overlap above ``max_overlap`` for strategies
    that avoid the target, a strategy's own check, a retryable draw) is re-sampled up to
    ``params.max_attempts`` times; then, or at once for failures another draw cannot fix,
    :class:`ViewRejected` is raised with the reason. ``image_sha256`` identifies the image for
    ``cross_image`` (defaults to a digest of the pixels).
    """
    strategy = get_strategy(name)
    p = strategy.make_params(params)
    check_rgb(image)
    height, width = image.shape[:2]
    target = target_in_image(target, width, height)
    if positive.box is None or not Box(0, 0, width, height).contains(positive.box):
        raise ValueError(
            f"positive must be a crop of this {width}x{height} image; its box is "
            f"{positive.box.to_list() if positive.box else None}"
        )
    ctx = StrategyContext(positive=positive, pool=pool, image_sha256=image_sha256)
    last: ViewRejected | None = None
    for attempt in range(p.max_attempts):
        try:
            cand = strategy.generate(image, target, p, attempt_rng(seed, attempt), ctx)
        except ViewRejected as exc:
            if not exc.retry:
                raise
            last = exc
            continue
        problem = _problem(strategy, cand, target, p, ctx)
        if problem is None:
            return _to_view(strategy, p, seed, cand, target, attempt + 1)
        reason, message, retry = problem
        last = ViewRejected(reason, message, retry=retry)
        if not retry:
            raise last
    assert last is not None
    raise ViewRejected(last.reason, f"{last.message} (after {p.max_attempts} attempts)")


def _to_view(
    strategy: NegativeStrategy, params: NegativeParams, seed: int, cand: Candidate, target: Box, attempts: int
) -> View:
    iou, inside = overlap(cand.box, target) if cand.box is not None else (0.0, 0.0)
    checks = {"target_box": target.to_list(), "attempts": attempts, **cand.checks}
    view = View(
        kind="negative",
        strategy=strategy.name,
        params=params.to_dict(),
        seed=int(seed),
        box=cand.box,
        pixels=cand.pixels,
        overlap_iou=iou,
        overlap_target=inside,
        source_image_sha256=cand.source_image_sha256,
        checks=checks,
    )
    # From the view's moments, which the pipeline's flat-view check reuses (a strategy's own wins).
    checks.setdefault("pixel_std", pixel_std(view))
    return view
