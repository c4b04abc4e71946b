"""Training records made directly from synthetic scenes, without a store: for tests and benchmarks.

Each record is a :func:`vzero_data.synth.make_scene` scene with a positive crop (the target box
grown by a margin) and two negative views: ``window`` (an equal-size window elsewhere that does not
touch the target's box) and ``masked`` (the positive crop with the target's box filled with the
crop's mean colour). Real training reads curated stores; these records only exercise the trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from vzero_core.boxes import Box
from vzero_data.synth import make_scene


@dataclass(frozen=True)
class SyntheticRecord:
    """Has the fields of the store's ``TrainingRecord`` that training reads (no answer)."""

    sample_id: str
    question: str
    image: Image.Image
    positive: Image.Image
    negatives: dict[str, Image.Image]
    positive_box: Box
    metadata: dict[str, Any] = field(default_factory=dict)


def _window_away_from(box: Box, width: int, height: int, size: int, rng: np.random.Generator) -> Box:
    """An equal-size (``box``-sized) window inside the image that does not overlap ``box``."""
    w, h = int(box.width), int(box.height)
    for _ in range(200):
        x, y = int(rng.integers(0, size - w + 1)), int(rng.integers(0, size - h + 1))
        candidate = Box(x, y, x + w, y + h)
        if candidate.intersection_area(box) == 0:
            return candidate
    raise ValueError(f"no {w}x{h} window avoids {box.to_list()} in a {size}x{size} image")


def synthetic_record(seed: int, index: int, *, size: int = 256, margin: float = 0.5) -> SyntheticRecord:
    """Record ``index`` of scene family ``seed`` (deterministic)."""
    scene = make_scene(seed, index, size)
    crop_box = Box(*scene.target.box.expand(ratio=margin).clip(size, size).round_out())
    positive = scene.image.crop(crop_box.round_out())
    rng = np.random.default_rng([seed, index, 1])
    window = _window_away_from(crop_box, crop_box.width, crop_box.height, size, rng)
    masked = positive.copy()
    target_in_crop = scene.target.box.translate(-crop_box.x1, -crop_box.y1).round_out()
    mean = tuple(int(c) for c in np.asarray(positive).reshape(-1, 3).mean(0))
    ImageDraw.Draw(masked).rectangle(
        (target_in_crop[0], target_in_crop[1], target_in_crop[2] - 1, target_in_crop[3] - 1), fill=mean
    )
    return SyntheticRecord(
        sample_id=f"synthetic-{seed}-{index}",
        question=scene.question,
        image=scene.image,
        positive=positive,
        negatives={"window": scene.image.crop(window.round_out()), "masked": masked},
        positive_box=crop_box,
        metadata={"source": "synthetic", "seed": seed, "index": index},
    )


def synthetic_records(n: int, *, seed: int = 0, size: int = 256) -> list[SyntheticRecord]:
    """``n`` records of scene family ``seed``."""
    return [synthetic_record(seed, i, size=size) for i in range(n)]
