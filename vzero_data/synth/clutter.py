"""The ``clutter`` world, vzero's embedded default data set.

Each scene is a cluttered image of many small shapes with one multiple-choice question about a
single small target. The target's colour is unique in the image and nothing else touches its box,
so the ground-truth box is exact (the tight bounding box of the drawn pixels) and tests can check
views by colour. The target covers well under 2% of the image: the question is genuinely
fine-grained. Generation is a pure function of ``(seed, index, size)``: same inputs, same PNG bytes.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vzero_core.boxes import Box
from vzero_data.synth.scene import (
    PALETTE,
    SHAPES,
    Scene,
    SceneObject,
    background,
    overlaps,
    paint_mask,
    region_name,
    shape_mask,
    side_length,
)

WORLD_NAME = "clutter"
TEXT_COLOR = (60, 60, 60)
TEXT_WORDS = ("EXIT", "SALE", "OPEN", "NO 7", "A12", "STOP", "K9", "LOT", "ZONE", "B4")
TARGET_SIDE_FRACTION = (0.015, 0.03)
DISTRACTOR_SIDE_FRACTION = (0.02, 0.09)
MIN_TARGET_SIDE = 8
TARGET_CLEARANCE_FRACTION = 0.01


def make_scene(seed: int, index: int, size: int = 1024, *, text: bool = False) -> Scene:
    """Generate scene ``index`` of the family ``seed``; a pure function of its arguments."""
    if size < 128:
        raise ValueError(f"synthetic scenes need size >= 128, got {size}")
    rng = np.random.default_rng([seed, index, size])
    canvas = Image.fromarray(background(size, rng), "RGB")

    target_shape = str(rng.choice(SHAPES))
    target_color = str(rng.choice(list(PALETTE)))
    t_side = side_length(size, TARGET_SIDE_FRACTION, rng, MIN_TARGET_SIDE)
    margin = max(4, int(size * 0.03))
    tx, ty = (int(v) for v in rng.integers(margin, size - margin - t_side, size=2))
    t_mask = shape_mask(target_shape, t_side, rng)
    clearance = max(3, int(size * TARGET_CLEARANCE_FRACTION))
    t_left, t_top, t_right, t_bottom = t_mask.getbbox()
    keep_out = Box(tx + t_left, ty + t_top, tx + t_right, ty + t_bottom).expand(pixels=clearance)

    other_colors = [c for c in PALETTE if c != target_color]
    objects: list[SceneObject] = []
    n_objects = int(rng.integers(25, 45))
    n_same_shape = int(rng.integers(3, 6))
    for i in range(n_objects):
        shape = target_shape if i < n_same_shape else str(rng.choice(SHAPES))
        color = str(rng.choice(other_colors))
        # Same-shape distractors are at least twice the target's size, so "the small <shape>" is unique.
        low = 2 * t_side if shape == target_shape else int(size * DISTRACTOR_SIDE_FRACTION[0])
        side = max(low, side_length(size, DISTRACTOR_SIDE_FRACTION, rng, MIN_TARGET_SIDE))
        mask = shape_mask(shape, side, rng)
        for _ in range(30):
            x, y = (int(v) for v in rng.integers(0, size - side, size=2))
            if not overlaps(Box(x, y, x + side, y + side), keep_out):
                objects.append(SceneObject(shape, color, paint_mask(canvas, mask, x, y, PALETTE[color])))
                break

    if text:
        draw = ImageDraw.Draw(canvas)
        draw.fontmode = "1"  # no anti-aliasing: text pixels stay exactly TEXT_COLOR
        font = ImageFont.load_default_imagefont()
        for _ in range(int(rng.integers(4, 10))):
            word = str(rng.choice(TEXT_WORDS))
            x, y = (int(v) for v in rng.integers(0, size - 40, size=2))
            left, top, right, bottom = draw.textbbox((x, y), word, font=font)
            if not overlaps(Box(left, top, right + 1, bottom + 1), keep_out):
                draw.text((x, y), word, fill=TEXT_COLOR, font=font)

    target = SceneObject(
        target_shape, target_color, paint_mask(canvas, t_mask, tx, ty, PALETTE[target_color])
    )
    region = region_name(target.box, size, size)
    kind = "color" if rng.integers(3) else "shape"
    if kind == "color":
        distractor_answers = [str(c) for c in rng.choice(other_colors, size=3, replace=False)]
        answer, phrase = target_color, f"small {target_shape}"
        question = f"What is the color of the small {target_shape} near the {region}?"
    else:
        distractor_answers = [
            str(s) for s in rng.choice([s for s in SHAPES if s != target_shape], size=3, replace=False)
        ]
        answer, phrase = target_shape, f"small {target_color} object"
        question = f"What is the shape of the small {target_color} object near the {region}?"
    options = [answer, *distractor_answers]
    order = rng.permutation(len(options))
    return Scene(
        image=canvas,
        target=target,
        question=question,
        options=tuple(options[i] for i in order),
        answer=answer,
        target_phrase=phrase,
        kind=kind,
        region=region,
        objects=tuple(objects),
    )
