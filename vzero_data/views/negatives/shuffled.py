"""``shuffled``: the positive crop cut into a ``grid x grid`` mosaic whose patches are permuted.

Every patch moves (the permutation is a single random cycle), so the view keeps the evidence's
pixels but not its structure. Rows and columns left over when a side is not a multiple of ``grid``
stay in place.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from vzero_core.boxes import Box
from vzero_data.views.errors import DEGENERATE_VIEW, ViewRejected
from vzero_data.views.params import NegativeParams
from vzero_data.views.strategy import Candidate, NegativeStrategy, StrategyContext


class ShuffledParams(NegativeParams):
    grid: int = Field(4, ge=2, le=32)


def shuffle_patches(pixels: np.ndarray, grid: int, rng: np.random.Generator) -> np.ndarray:
    """Move every patch of a ``grid x grid`` tiling to another cell (a random cyclic permutation)."""
    h, w = pixels.shape[:2]
    ph, pw = h // grid, w // grid
    if ph < 1 or pw < 1:
        raise ViewRejected(DEGENERATE_VIEW, f"a {w}x{h} crop is too small for a {grid}x{grid} grid")
    n = grid * grid
    order = rng.permutation(n)
    dest = np.empty(n, dtype=np.int64)
    dest[order] = np.roll(order, -1)  # order[i] -> order[i + 1]: one n-cycle, no fixed point
    core = pixels[: grid * ph, : grid * pw]
    patches = core.reshape(grid, ph, grid, pw, 3).swapaxes(1, 2).reshape(n, ph, pw, 3)
    moved = np.empty_like(patches)
    moved[dest] = patches
    out = pixels.copy()
    out[: grid * ph, : grid * pw] = (
        moved.reshape(grid, grid, ph, pw, 3).swapaxes(1, 2).reshape(grid * ph, grid * pw, 3)
    )
    return out


def generate(
    image: np.ndarray, target: Box, params: ShuffledParams, rng: np.random.Generator, ctx: StrategyContext
) -> Candidate:
    pixels = ctx.positive.pixels
    out = shuffle_patches(pixels, params.grid, rng)
    h, w = pixels.shape[:2]
    checks = {"patch_size": [w // params.grid, h // params.grid]}
    return Candidate(out, ctx.positive.box, checks=checks)


STRATEGY = NegativeStrategy(
    name="shuffled",
    params_model=ShuffledParams,
    generate=generate,
    summary="the positive crop as a grid of patches, every patch moved",
)
