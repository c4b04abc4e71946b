"""Pipeline-level quality checks on finished views, configured by the recipe's ``checks`` section.

The view strategies enforce their own geometric rules (overlap with the target, minimum side) when
they build a view; these checks guard the result whatever strategy, or plugin, produced it. Each
check is a pure function returning ``None`` (pass) or a detail string; the check's name is the
reason code recorded in the store's ``rejects`` table.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from vzero_data.pipeline.recipe import ChecksConfig
from vzero_data.views.view import channel_moments, overall_std, pixels_digest


class CheckedView(Protocol):
    kind: str
    strategy: str
    pixels: np.ndarray


def view_key(view: CheckedView) -> str:
    """Digest of the view's shape and pixels: equal keys mean identical pixels. A
    :class:`~vzero_data.views.View` computes it once and shares it with its view id."""
    digest = getattr(view, "digest", None)
    return digest if isinstance(digest, str) else pixels_digest(view.pixels)


def view_too_small(view: CheckedView, cfg: ChecksConfig) -> str | None:
    h, w = view.pixels.shape[:2]
    if min(h, w) < cfg.min_view_side:
        return f"{view.kind} view {view.strategy!r} is {w}x{h}, below min_view_side {cfg.min_view_side}"
    return None


def pixels_std(view: CheckedView) -> float:
    """The standard deviation of all the view's pixel values (every channel together), in float64
    from its per-channel moments: a :class:`~vzero_data.views.View` computes them once and shares
    them with its ``pixel_std`` check."""
    moments = getattr(view, "moments", None)
    means, stds = moments if moments is not None else channel_moments(view.pixels)
    return overall_std(means, stds)


def flat_view(view: CheckedView, cfg: ChecksConfig) -> str | None:
    if cfg.min_pixel_std <= 0:
        return None
    std = pixels_std(view)
    if std < cfg.min_pixel_std:
        return (
            f"{view.kind} view {view.strategy!r} is nearly uniform "
            f"(pixel std {std:.2f} < min_pixel_std {cfg.min_pixel_std})"
        )
    return None


VIEW_CHECKS: dict[str, Callable[[CheckedView, ChecksConfig], str | None]] = {
    "view_too_small": view_too_small,
    "flat_view": flat_view,
}


def view_failure(
    view: CheckedView, cfg: ChecksConfig, seen: set[str] | None = None
) -> tuple[str, str] | None:
    """``(check name, detail)`` of the first check ``view`` fails, or None.

    ``seen`` holds the :func:`view_key` of the sample's views accepted so far; with
    ``reject_duplicate_views`` a view with the same pixels as one of them fails ``duplicate_view``
    (it would teach nothing new). The caller adds accepted views' keys.
    """
    for name, check in VIEW_CHECKS.items():
        detail = check(view, cfg)
        if detail is not None:
            return name, detail
    if cfg.reject_duplicate_views and seen is not None and view_key(view) in seen:
        return (
            "duplicate_view",
            f"{view.kind} view {view.strategy!r} has the same pixels as an earlier view of this sample",
        )
    return None
