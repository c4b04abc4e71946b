"""Localisation-free baselines for synthetic colour questions: pick the rarest or the commonest
option colour by its pixels.

Synthetic scenes paint objects in exact palette colours on a background that never takes one, so
counting a colour's pixels is exact. In the default clutter world the target is the only object of
its colour and small, so the option colour with the fewest pixels (most options are absent, with
zero pixels: the fewest *present* pixels) is nearly always the answer, without locating anything.
A world that tests localisation must bring this rule down to chance; the sandbox reports it. In the
big-small world the target is the bigger of two objects, so the commonest option colour answers it:
that world tests whether a student learns, not whether it reads the question's position.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image

from vzero_data.synth.scene import PALETTE


def colour_pixel_counts(image: Image.Image, colours: Iterable[str]) -> dict[str, int]:
    """How many pixels of ``image`` have exactly each named palette colour."""
    pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
    counts = {}
    for name in colours:
        if name not in PALETTE:
            raise ValueError(f"unknown palette colour {name!r}; known: {', '.join(PALETTE)}")
        counts[name] = int(np.all(pixels == np.array(PALETTE[name], dtype=np.int16), axis=-1).sum())
    return counts


def rarest_colour_choice(image: Image.Image, options: Sequence[str]) -> str:
    """The option colour with the fewest (but some) pixels; ties go to the earliest option, and an
    image showing none of them gets the first option."""
    counts = colour_pixel_counts(image, options)
    present = [o for o in options if counts[o] > 0]
    if not present:
        return options[0]
    return min(present, key=lambda o: (counts[o], list(options).index(o)))


def commonest_colour_choice(image: Image.Image, options: Sequence[str]) -> str:
    """The option colour with the most pixels; ties go to the earliest option."""
    counts = colour_pixel_counts(image, options)
    return max(options, key=lambda o: (counts[o], -list(options).index(o)))


def rarest_colour_accuracy(
    scenes: Iterable[tuple[Image.Image, Sequence[str], str]], rule: str = "rarest"
) -> tuple[int, int]:
    """``(correct, n)`` of :func:`rarest_colour_choice` (``rule="rarest"``) or
    :func:`commonest_colour_choice` (``"commonest"``) over ``(image, options, answer)`` triples."""
    choose = {"rarest": rarest_colour_choice, "commonest": commonest_colour_choice}[rule]
    correct = n = 0
    for image, options, answer in scenes:
        correct += choose(image, options) == answer
        n += 1
    return correct, n
