"""``distractor``: a window of the positive's size elsewhere in the same image, off the target."""

from __future__ import annotations

import numpy as np

from vzero_core.boxes import Box
from vzero_data.views.geometry import crop, sample_window, window_size
from vzero_data.views.params import AvoidTargetParams
from vzero_data.views.strategy import Candidate, NegativeStrategy, StrategyContext, scale_like_positive


class DistractorParams(AvoidTargetParams):
    pass


def generate(
    image: np.ndarray, target: Box, params: DistractorParams, rng: np.random.Generator, ctx: StrategyContext
) -> Candidate:
    height, width = image.shape[:2]
    win_w, win_h = window_size(ctx.positive.box)
    avoid = target.expand(pixels=params.gap) if params.max_overlap == 0 else None
    box = sample_window(width, height, win_w, win_h, rng, avoid)
    return Candidate(scale_like_positive(crop(image, box), ctx.positive), box)


STRATEGY = NegativeStrategy(
    name="distractor",
    params_model=DistractorParams,
    generate=generate,
    avoids_target=True,
    summary="same-scale window of the positive's size elsewhere in the image, off the target",
)
