"""``random_positive``, the paper's "random crop" ablation: a window of the positive's size anywhere.

It may overlap the target (that is the point of the ablation), so no overlap rejection applies.
"""

from __future__ import annotations

import numpy as np

from vzero_core.boxes import Box
from vzero_data.views.geometry import crop, sample_window, window_size
from vzero_data.views.params import NegativeParams
from vzero_data.views.strategy import Candidate, NegativeStrategy, StrategyContext, scale_like_positive


class RandomPositiveParams(NegativeParams):
    pass


def generate(
    image: np.ndarray,
    target: Box,
    params: RandomPositiveParams,
    rng: np.random.Generator,
    ctx: StrategyContext,
) -> Candidate:
    height, width = image.shape[:2]
    win_w, win_h = window_size(ctx.positive.box)
    box = sample_window(width, height, win_w, win_h, rng)
    return Candidate(scale_like_positive(crop(image, box), ctx.positive), box)


STRATEGY = NegativeStrategy(
    name="random_positive",
    params_model=RandomPositiveParams,
    generate=generate,
    summary="ablation: window of the positive's size anywhere (may overlap the target)",
)
