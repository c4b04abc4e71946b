"""``downsampled_view``, the paper's "relative" variant: the positive crop downsampled 2x (bicubic)."""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from vzero_core.boxes import Box
from vzero_data.views.geometry import INTERPOLATIONS
from vzero_data.views.params import NegativeParams
from vzero_data.views.strategy import Candidate, NegativeStrategy, StrategyContext


class DownsampledViewParams(NegativeParams):
    factor: int = Field(2, ge=2, le=16)
    interpolation: Literal["bicubic", "area", "bilinear"] = "bicubic"


def generate(
    image: np.ndarray,
    target: Box,
    params: DownsampledViewParams,
    rng: np.random.Generator,
    ctx: StrategyContext,
) -> Candidate:
    src = ctx.positive.pixels
    h, w = src.shape[:2]
    size = (max(1, round(w / params.factor)), max(1, round(h / params.factor)))
    pixels = cv2.resize(src, size, interpolation=INTERPOLATIONS[params.interpolation])
    return Candidate(pixels, ctx.positive.box)


STRATEGY = NegativeStrategy(
    name="downsampled_view",
    params_model=DownsampledViewParams,
    generate=generate,
    summary="ablation ('relative'): the positive crop's region downsampled 2x, bicubic",
)
