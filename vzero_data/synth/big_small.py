"""The ``big_small`` world: a world a tiny student can learn from the full image.

Each scene holds two objects of distinct colours in different quadrants of the image: a big one
(the target, its side ``target_side`` of the image) and a small one (the distractor, ``distractor_side``).
The question names the target's quadrant ("What is the color of the object in the top left?"); the
options are the target's colour, the distractor's colour and others drawn from the palette. The
answer needs the target found by its position, and a crop of the target answers it at a glance,
while a crop of the distractor points at a wrong option: the evidence the gate needs is there to
remove. Generation is a pure function of ``(seed, index, knobs)``: same inputs, same PNG bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from vzero_core.boxes import Box
from vzero_data.synth.scene import PALETTE, SHAPES, Scene, SceneObject, background, paint_mask, shape_mask

WORLD_NAME = "big_small"
QUADRANTS = ("top left", "top right", "bottom left", "bottom right")
MIN_SIZE = 48


@dataclass(frozen=True)
class BigSmallKnobs:
    """Size and difficulty of a big-small scene; validated on creation."""

    size: int = 112
    n_options: int = 4
    target_side: tuple[float, float] = (0.30, 0.42)
    distractor_side: tuple[float, float] = (0.12, 0.20)

    def __post_init__(self) -> None:
        if self.size < MIN_SIZE:
            raise ValueError(f"big-small scenes need size >= {MIN_SIZE}, got {self.size}")
        if not 2 <= self.n_options <= len(PALETTE):
            raise ValueError(f"n_options must be in [2, {len(PALETTE)}], got {self.n_options}")
        for name in ("target_side", "distractor_side"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi <= 0.5:
                raise ValueError(f"{name} must satisfy 0 < low <= high <= 0.5 (a quadrant), got {(lo, hi)}")


def _place(size: int, quadrant: int, side: int, rng: np.random.Generator) -> tuple[int, int]:
    """Top-left corner of a ``side`` square inside ``quadrant`` (0..3: top left, top right, ...)."""
    half = size // 2
    x0, y0 = (quadrant % 2) * half, (quadrant // 2) * half
    span = max(0, half - side)
    return x0 + int(rng.integers(0, span + 1)), y0 + int(rng.integers(0, span + 1))


def make_big_small_scene(seed: int, index: int, knobs: BigSmallKnobs = BigSmallKnobs()) -> Scene:
    """Scene ``index`` of the family ``seed``: a pure function of its arguments."""
    rng = np.random.default_rng([seed, index, knobs.size, 73])
    size = knobs.size
    canvas = Image.fromarray(background(size, rng), "RGB")
    colours = [str(c) for c in rng.choice(list(PALETTE), size=knobs.n_options, replace=False)]
    target_q, distractor_q = (int(q) for q in rng.choice(len(QUADRANTS), size=2, replace=False))
    objects = []
    for colour, quadrant, fraction in (
        (colours[0], target_q, knobs.target_side),
        (colours[1], distractor_q, knobs.distractor_side),
    ):
        side = min(size // 2, max(4, int(round(size * rng.uniform(*fraction)))))
        shape = str(rng.choice(SHAPES))
        x, y = _place(size, quadrant, side, rng)
        box = paint_mask(canvas, shape_mask(shape, side, rng), x, y, PALETTE[colour])
        objects.append(SceneObject(shape, colour, box))
    target, distractor = objects
    region = QUADRANTS[target_q]
    options = tuple(colours[i] for i in rng.permutation(len(colours)))
    return Scene(
        image=canvas,
        target=target,
        question=f"What is the color of the object in the {region}?",
        options=options,
        answer=target.color,
        target_phrase=f"object in the {region}",
        kind="color",
        region=region,
        objects=(distractor,),
    )


def quadrant_of(box: Box, width: int, height: int) -> str:
    """The quadrant holding ``box``'s centre."""
    cx, cy = box.center
    return QUADRANTS[(2 if cy >= height / 2 else 0) + (1 if cx >= width / 2 else 0)]
