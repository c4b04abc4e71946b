"""``downsampled_distractor``, the paper's default negative.

Downsample the full image ``factor`` times, map the target box into that frame, and take a window of
the positive crop's pixel size that does not overlap the mapped box. With ``area`` interpolation
(exact block averages) only the window's own source pixels are resampled, which is identical to
resampling the whole image and much faster; other interpolations resample the whole frame and their
kernels read source pixels beyond a block (:data:`KERNEL_REACH`), so the avoided box grows by that
reach: no pixel of the negative is computed from a target pixel, whatever the interpolation.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from vzero_core.boxes import Box
from vzero_data.views.geometry import INTERPOLATIONS, crop, sample_window, window_size
from vzero_data.views.params import AvoidTargetParams
from vzero_data.views.strategy import Candidate, NegativeStrategy, StrategyContext, scale_like_positive

# Source pixels beyond its own block that one output pixel of an integer-factor downsample may read.
KERNEL_REACH = {"area": 0, "bilinear": 1, "bicubic": 2}


class DownsampledDistractorParams(AvoidTargetParams):
    factor: int = Field(2, ge=2, le=16)
    interpolation: Literal["area", "bicubic", "bilinear"] = "area"


def generate(
    image: np.ndarray,
    target: Box,
    params: DownsampledDistractorParams,
    rng: np.random.Generator,
    ctx: StrategyContext,
) -> Candidate:
    f = params.factor
    height, width = image.shape[:2]
    small_w, small_h = width // f, height // f
    win_w, win_h = window_size(ctx.positive.box)
    mapped = target.scale(1.0 / f)
    reach = KERNEL_REACH[params.interpolation]
    avoid = mapped.expand(pixels=(params.gap + reach) / f) if params.max_overlap == 0 else None
    window = sample_window(small_w, small_h, win_w, win_h, rng, avoid)
    source = window.scale(f)
    if params.interpolation == "area":
        pixels = cv2.resize(crop(image, source), (win_w, win_h), interpolation=cv2.INTER_AREA)
    else:
        small = cv2.resize(
            image[: small_h * f, : small_w * f],
            (small_w, small_h),
            interpolation=INTERPOLATIONS[params.interpolation],
        )
        pixels = crop(small, window)
    checks = {"downsampled_window": window.to_list(), "downsampled_frame": [small_w, small_h]}
    return Candidate(scale_like_positive(pixels, ctx.positive), source, checks=checks)


STRATEGY = NegativeStrategy(
    name="downsampled_distractor",
    params_model=DownsampledDistractorParams,
    generate=generate,
    avoids_target=True,
    summary="paper default: image downsampled 2x, window of the positive's pixel size off the target",
)
