"""``degraded``: the positive crop destroyed by strong Gaussian blur or pixelation (albumentations).

``strength`` is relative to the crop's shorter side: the blur's sigma, or the pixel block's side.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from vzero_data.boxes import Box
from vzero_data.views.params import NegativeParams
from vzero_data.views.strategy import Candidate, NegativeStrategy, StrategyContext


class DegradedParams(NegativeParams):
    mode: Literal["blur", "pixelate"] = "blur"
    strength: float = Field(0.15, gt=0.0, le=1.0)


@lru_cache(maxsize=256)
def _transform(mode: str, amount: float):
    from vzero_data.views.albumentations_import import albumentations as A  # heavy: on first use

    if mode == "blur":
        return A.GaussianBlur(blur_limit=0, sigma_limit=(amount, amount), p=1.0)
    return A.Downscale(
        scale_range=(amount, amount),
        interpolation_pair={"downscale": cv2.INTER_AREA, "upscale": cv2.INTER_NEAREST},
        p=1.0,
    )


def degrade(pixels: np.ndarray, mode: str, strength: float) -> tuple[np.ndarray, float]:
    """Blur (sigma) or pixelate (scale) ``pixels``; returns the result and the amount applied."""
    side = min(pixels.shape[:2])
    if mode == "blur":
        amount = round(max(1.0, strength * side), 3)
    else:
        amount = round(min(1.0, 1.0 / max(1.0, strength * side)), 6)
    return _transform(mode, amount)(image=np.ascontiguousarray(pixels))["image"], amount


def generate(
    image: np.ndarray, target: Box, params: DegradedParams, rng: np.random.Generator, ctx: StrategyContext
) -> Candidate:
    out, amount = degrade(ctx.positive.pixels, params.mode, params.strength)
    key = "blur_sigma" if params.mode == "blur" else "downscale"
    return Candidate(out, ctx.positive.box, checks={key: amount})


STRATEGY = NegativeStrategy(
    name="degraded",
    params_model=DegradedParams,
    generate=generate,
    summary="the positive crop destroyed by strong blur or pixelation",
    preload=("vzero_data.views.albumentations_import",),
)
