"""The one box form used inside vzero: ``xyxy`` floats in absolute pixels of the original image.

Pixel ``i`` spans the continuous interval ``[i, i + 1)``, so a box that covers exactly the pixels
``x0..x1`` (inclusive) is ``Box(x0, y0, x1 + 1, y1 + 1)`` and a whole ``W x H`` image is
``Box(0, 0, W, H)``. Conversions from other conventions live in :mod:`vzero_core.box_formats`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


class BoxError(ValueError):
    """A box that is not a valid, non-empty xyxy rectangle (or that leaves its image)."""


@dataclass(frozen=True, slots=True)
class Box:
    """Axis-aligned rectangle ``(x1, y1, x2, y2)`` in absolute pixels, with ``x1 < x2`` and ``y1 < y2``."""

    x1: float
    y1: float
    x2: float
    y2: float

    def __post_init__(self) -> None:
        values = (self.x1, self.y1, self.x2, self.y2)
        for name, value in zip(("x1", "y1", "x2", "y2"), values, strict=True):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise BoxError(f"invalid box {values}: {name} must be a number, got {type(value).__name__}")
            if not math.isfinite(value):
                raise BoxError(f"invalid box {values}: {name} is not finite")
        if not self.x1 < self.x2:
            raise BoxError(f"invalid box {values}: x1 must be < x2 (empty or inverted width)")
        if not self.y1 < self.y2:
            raise BoxError(f"invalid box {values}: y1 must be < y2 (empty or inverted height)")
        for name in ("x1", "y1", "x2", "y2"):
            object.__setattr__(self, name, float(getattr(self, name)))

    @classmethod
    def from_xyxy(cls, xyxy: Sequence[float]) -> Box:
        """Build a box from any 4-sequence ``[x1, y1, x2, y2]``."""
        if isinstance(xyxy, (str, bytes)) or len(xyxy) != 4:
            raise BoxError(f"invalid box {xyxy!r}: expected 4 numbers [x1, y1, x2, y2]")
        return cls(*xyxy)

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0)

    def to_list(self) -> list[float]:
        return [self.x1, self.y1, self.x2, self.y2]

    def area_ratio(self, image_width: int, image_height: int) -> float:
        """Share of the image area the box covers (after clipping to the image)."""
        if image_width <= 0 or image_height <= 0:
            raise BoxError(f"image size must be positive, got {image_width}x{image_height}")
        return self.clip(image_width, image_height).area / float(image_width * image_height)

    def clip(self, image_width: int, image_height: int) -> Box:
        """Clamp to ``[0, W] x [0, H]``; raises :class:`BoxError` if nothing of the box is inside."""
        x1, y1 = max(0.0, self.x1), max(0.0, self.y1)
        x2, y2 = min(float(image_width), self.x2), min(float(image_height), self.y2)
        if not (x1 < x2 and y1 < y2):
            raise BoxError(f"box {self.to_list()} lies outside the {image_width}x{image_height} image")
        return Box(x1, y1, x2, y2)

    def expand(self, ratio: float = 0.0, pixels: float = 0.0) -> Box:
        """Grow each side: width and height scale by ``1 + ratio`` about the centre, then ``pixels``
        are added on every side. Negative values shrink; a box shrunk to nothing raises."""
        cx, cy = self.center
        half_w = self.width * (1.0 + ratio) / 2.0 + pixels
        half_h = self.height * (1.0 + ratio) / 2.0 + pixels
        if half_w <= 0 or half_h <= 0:
            raise BoxError(
                f"expanding {self.to_list()} by ratio={ratio}, pixels={pixels} leaves an empty box"
            )
        return Box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)

    def translate(self, dx: float, dy: float) -> Box:
        return Box(self.x1 + dx, self.y1 + dy, self.x2 + dx, self.y2 + dy)

    def scale(self, sx: float, sy: float | None = None) -> Box:
        """Map into a frame resized by ``(sx, sy)`` (e.g. 0.5 for a 2x downsample)."""
        sy = sx if sy is None else sy
        return Box(self.x1 * sx, self.y1 * sy, self.x2 * sx, self.y2 * sy)

    def intersection_area(self, other: Box) -> float:
        w = min(self.x2, other.x2) - max(self.x1, other.x1)
        h = min(self.y2, other.y2) - max(self.y1, other.y1)
        return w * h if w > 0 and h > 0 else 0.0

    def iou(self, other: Box) -> float:
        """Intersection over union, in ``[0, 1]``."""
        inter = self.intersection_area(other)
        return inter / (self.area + other.area - inter)

    def intersection_over(self, other: Box) -> float:
        """How much of *this* box lies inside ``other`` (intersection / own area), in ``[0, 1]``."""
        return self.intersection_area(other) / self.area

    def contains(self, other: Box) -> bool:
        """True when ``other`` lies entirely inside this box (edges may touch)."""
        return self.x1 <= other.x1 and self.y1 <= other.y1 and self.x2 >= other.x2 and self.y2 >= other.y2

    def round_out(self) -> tuple[int, int, int, int]:
        """Smallest integer pixel rectangle covering the box: what to pass to an image crop."""
        return (math.floor(self.x1), math.floor(self.y1), math.ceil(self.x2), math.ceil(self.y2))


def union_box(boxes: Sequence[Box]) -> Box:
    """Smallest box enclosing every box in ``boxes``."""
    if not boxes:
        raise BoxError("union of no boxes is undefined")
    return Box(
        min(b.x1 for b in boxes), min(b.y1 for b in boxes), max(b.x2 for b in boxes), max(b.y2 for b in boxes)
    )
