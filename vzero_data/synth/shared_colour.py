"""Synthetic scenes whose answer needs localisation: every colour is shared by several objects.

The default synthetic world (:mod:`vzero_data.synth.clutter`) gives its target a colour no other object has,
so "the option colour with the fewest pixels" answers most colour questions without finding the
target. Here each of the question's option colours is painted on the same number of objects
(``objects_per_colour``), all objects are drawn from one size range, and the target is singled out
by its shape alone (no other object has it). Counting colours therefore says nothing about the
answer: a model has to find the one object of the named shape and read its colour.

Scenes are small (``size`` down to 48 px) so a tiny model sees the evidence at its own input
resolution. Difficulty knobs: the number of option colours, objects per colour, the objects' side
range and a target scale (a curriculum can start with larger targets). Generation is a pure
function of ``(seed, index, knobs)``: same inputs, same PNG bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from vzero_core.boxes import Box
from vzero_data.synth.scene import (
    PALETTE,
    SHAPES,
    Scene,
    SceneObject,
    background,
    paint_mask,
    region_name,
    shape_mask,
)

WORLD_NAME = "shared_colour"
MIN_SIZE = 48
_PLACEMENT_TRIES = 200
_SCENE_ATTEMPTS = 20


@dataclass(frozen=True)
class SharedColourKnobs:
    """Difficulty of a shared-colour scene; validated on creation."""

    size: int = 112
    n_options: int = 4
    objects_per_colour: int = 2
    side_fraction: tuple[float, float] = (0.14, 0.22)
    target_scale: float = 1.0
    gap: int = 2

    def __post_init__(self) -> None:
        if self.size < MIN_SIZE:
            raise ValueError(f"shared-colour scenes need size >= {MIN_SIZE}, got {self.size}")
        if not 2 <= self.n_options <= len(PALETTE):
            raise ValueError(f"n_options must be in [2, {len(PALETTE)}], got {self.n_options}")
        if self.objects_per_colour < 1:
            raise ValueError(f"objects_per_colour must be >= 1, got {self.objects_per_colour}")
        lo, hi = self.side_fraction
        if not 0 < lo <= hi < 1:
            raise ValueError(f"side_fraction must satisfy 0 < low <= high < 1, got {self.side_fraction}")
        if self.target_scale <= 0:
            raise ValueError(f"target_scale must be > 0, got {self.target_scale}")
        if self.gap < 0:
            raise ValueError(f"gap must be >= 0, got {self.gap}")

    @property
    def n_objects(self) -> int:
        return self.n_options * self.objects_per_colour


def _side(knobs: SharedColourKnobs, rng: np.random.Generator, scale: float = 1.0) -> int:
    side = int(round(knobs.size * rng.uniform(*knobs.side_fraction) * scale))
    return int(min(max(side, 6), knobs.size - 2))


def _try_scene(seed: int, index: int, knobs: SharedColourKnobs, attempt: int) -> Scene | None:
    rng = np.random.default_rng([seed, index, knobs.size, attempt])
    size = knobs.size
    canvas = Image.fromarray(background(size, rng), "RGB")
    colours = [str(c) for c in rng.choice(list(PALETTE), size=knobs.n_options, replace=False)]
    target_shape = str(rng.choice(SHAPES))
    others = [s for s in SHAPES if s != target_shape]
    # object 0 is the target; every colour gets objects_per_colour objects, the target's included
    paint = [c for c in colours for _ in range(knobs.objects_per_colour)]
    paint = [paint[i] for i in rng.permutation(len(paint))]
    placed: list[Box] = []
    objects: list[SceneObject] = []
    for i, colour in enumerate(paint):
        shape = target_shape if i == 0 else str(rng.choice(others))
        side = _side(knobs, rng, knobs.target_scale if i == 0 else 1.0)
        mask = shape_mask(shape, side, rng)
        for _ in range(_PLACEMENT_TRIES):
            x, y = (int(v) for v in rng.integers(0, size - side + 1, size=2))
            cell = Box(x, y, x + side, y + side)
            if all(cell.intersection_area(b.expand(pixels=knobs.gap)) == 0 for b in placed):
                placed.append(cell)
                objects.append(SceneObject(shape, colour, paint_mask(canvas, mask, x, y, PALETTE[colour])))
                break
        else:
            return None
    target = objects[0]
    options = [colours[i] for i in rng.permutation(len(colours))]
    return Scene(
        image=canvas,
        target=target,
        question=f"What is the color of the {target.shape}?",
        options=tuple(options),
        answer=target.color,
        target_phrase=target.shape,
        kind="color",
        region=region_name(target.box, size, size),
        objects=tuple(objects[1:]),
    )


def make_shared_colour_scene(seed: int, index: int, knobs: SharedColourKnobs = SharedColourKnobs()) -> Scene:
    """Scene ``index`` of the family ``seed``: a pure function of its arguments.

    Objects never overlap (``gap`` pixels apart). A layout that does not fit is redrawn from the
    next attempt's seed; knobs that leave no room fail with an error naming them.
    """
    for attempt in range(_SCENE_ATTEMPTS):
        scene = _try_scene(seed, index, knobs, attempt)
        if scene is not None:
            return scene
    raise ValueError(
        f"cannot place {knobs.n_objects} objects of side fraction {knobs.side_fraction} "
        f"(target scale {knobs.target_scale}) in a {knobs.size}px scene: use fewer or smaller objects"
    )
