"""``cross_image``: a window of the positive's size from another image of the data set.

The view's ``box`` is ``None`` (it is not a window of this sample's image); ``source_image_sha256``
names the other image, ``checks["source_box"]`` the window in it and ``checks["source_size"]`` the
size the pool holds that image at (see :class:`~vzero_data.views.pool.PathImagePool`).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from vzero_core.boxes import Box
from vzero_data.views.crop_policy import shift_into
from vzero_data.views.errors import NO_OTHER_IMAGE, WINDOW_EXCEEDS_IMAGE, ViewRejected
from vzero_data.views.geometry import crop, sample_window, window_size
from vzero_data.views.params import NegativeParams
from vzero_data.views.strategy import Candidate, NegativeStrategy, StrategyContext, scale_like_positive
from vzero_data.views.view import pixels_digest


class CrossImageParams(NegativeParams):
    position: Literal["random", "same"] = "random"  # "same": the positive's window, shifted to fit


def generate(
    image: np.ndarray, target: Box, params: CrossImageParams, rng: np.random.Generator, ctx: StrategyContext
) -> Candidate:
    if ctx.pool is None:
        raise ViewRejected(NO_OTHER_IMAGE, "cross_image needs an image pool (negative_view(..., pool=...))")
    own = ctx.image_sha256 or pixels_digest(image)
    try:
        sha, other = ctx.pool.sample_other(own, rng)
    except LookupError as exc:
        raise ViewRejected(NO_OTHER_IMAGE, str(exc)) from exc
    other_h, other_w = other.shape[:2]
    win_w, win_h = window_size(ctx.positive.box)
    if win_w > other_w or win_h > other_h:
        raise ViewRejected(
            WINDOW_EXCEEDS_IMAGE, f"a {win_w}x{win_h} window does not fit pool image {sha}", retry=True
        )
    if params.position == "same":
        box = shift_into(ctx.positive.box, other_w, other_h)
    else:
        box = sample_window(other_w, other_h, win_w, win_h, rng)
    window = crop(other, box)
    # A pool may hold this very picture under another name; the full comparison runs only when the
    # window already matches this image at the same place.
    if (
        other.shape == image.shape
        and np.array_equal(window, crop(image, box))
        and np.array_equal(other, image)
    ):
        raise ViewRejected(NO_OTHER_IMAGE, f"pool image {sha} has this image's pixels", retry=True)
    pixels = scale_like_positive(window, ctx.positive)
    return Candidate(
        pixels,
        None,
        source_image_sha256=sha,
        checks={"source_box": box.to_list(), "source_size": [other_w, other_h]},
    )


STRATEGY = NegativeStrategy(
    name="cross_image",
    params_model=CrossImageParams,
    generate=generate,
    summary="window of the positive's size from another image of the data set",
)
