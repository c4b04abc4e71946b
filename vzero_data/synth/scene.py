"""What every synthetic world paints with: the palette, the shapes, the scene record and the
painting primitives. A pixel of a palette colour is always an object pixel (the background stays in
a channel range no palette colour fits), so tests can check views by colour."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from vzero_core.boxes import Box

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (240, 210, 40),
    "purple": (140, 60, 180),
    "orange": (245, 130, 30),
    "cyan": (40, 200, 210),
    "pink": (240, 120, 180),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
    "brown": (130, 80, 40),
}
SHAPES = ("circle", "square", "triangle", "diamond", "cross", "star")
# Background and text stay inside this channel range, which no palette colour fits in: a pixel of
# a palette colour is always an object pixel.
BACKGROUND_RANGE = (90, 170)


@dataclass(frozen=True)
class SceneObject:
    shape: str
    color: str
    box: Box


@dataclass(frozen=True)
class Scene:
    """One generated scene: pixels plus everything needed to ask about its target."""

    image: Image.Image
    target: SceneObject
    question: str
    options: tuple[str, ...]
    answer: str
    target_phrase: str
    kind: str
    region: str
    objects: tuple[SceneObject, ...] = field(default_factory=tuple)


def shape_mask(shape: str, side: int, rng: np.random.Generator) -> Image.Image:
    """A binary (``L``, values 0/255) mask of ``shape`` inscribed in a ``side x side`` patch."""
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    s = side - 1
    if shape == "circle":
        draw.ellipse((0, 0, s, s), fill=255)
    elif shape == "square":
        inset = int(rng.integers(0, max(1, side // 6)))
        draw.rectangle((0, inset, s, s - inset), fill=255)
    elif shape == "triangle":
        draw.polygon([(s / 2, 0), (s, s), (0, s)], fill=255)
    elif shape == "diamond":
        draw.polygon([(s / 2, 0), (s, s / 2), (s / 2, s), (0, s / 2)], fill=255)
    elif shape == "cross":
        t = max(1, side // 3)
        lo, hi = (side - t) // 2, (side - t) // 2 + t - 1
        draw.rectangle((lo, 0, hi, s), fill=255)
        draw.rectangle((0, lo, s, hi), fill=255)
    elif shape == "star":
        c, r_out, r_in = s / 2, s / 2, s / 5
        pts = []
        for k in range(10):
            ang = -np.pi / 2 + k * np.pi / 5
            r = r_out if k % 2 == 0 else r_in
            pts.append((c + r * np.cos(ang), c + r * np.sin(ang)))
        draw.polygon(pts, fill=255)
    else:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    return mask


def paint_mask(canvas: Image.Image, mask: Image.Image, x: int, y: int, color: tuple[int, int, int]) -> Box:
    """Paint ``color`` through ``mask`` at ``(x, y)``; return the tight box of the painted pixels."""
    canvas.paste(color, (x, y), mask)
    left, top, right, bottom = mask.getbbox()
    return Box(x + left, y + top, x + right, y + bottom)


def background(size: int, rng: np.random.Generator) -> np.ndarray:
    """A ``size x size`` noisy two-colour gradient inside :data:`BACKGROUND_RANGE`."""
    lo, hi = BACKGROUND_RANGE
    a, b = rng.uniform(lo + 15, hi - 15, size=(2, 3))
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)
    grad = t[:, None] if rng.integers(2) else t[None, :]
    base = a[None, None, :] * (1 - grad[..., None]) + b[None, None, :] * grad[..., None]
    noise = rng.integers(-3, 4, size=(size, size, 3))
    return np.clip(base + noise, lo, hi).astype(np.uint8)


def region_name(box: Box, width: int, height: int) -> str:
    """Coarse location words for a box centre: one of nine thirds of the image."""
    cx, cy = box.center
    row = ("top", "", "bottom")[min(2, int(3 * cy / height))]
    col = ("left", "", "right")[min(2, int(3 * cx / width))]
    return " ".join(p for p in (row, col) if p) or "center"


def side_length(size: int, fraction: tuple[float, float], rng: np.random.Generator, minimum: int) -> int:
    """A side length drawn as a fraction of ``size`` (at least ``minimum`` pixels)."""
    return max(minimum, int(round(size * rng.uniform(*fraction))))


def overlaps(box: Box, keep_out: Box) -> bool:
    """Whether ``box`` shares any area with ``keep_out``."""
    return box.intersection_area(keep_out) > 0
