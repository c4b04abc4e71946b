"""Window arithmetic shared by the view strategies: clipping, overlap, exact window sampling, resizing."""

from __future__ import annotations

import math

import cv2
import numpy as np

from vzero_core.boxes import Box, BoxError
from vzero_data.views.errors import (
    NO_ROOM_OUTSIDE_TARGET,
    TARGET_OUTSIDE_IMAGE,
    WINDOW_EXCEEDS_IMAGE,
    ViewRejected,
)

INTERPOLATIONS = {
    "area": cv2.INTER_AREA,
    "bicubic": cv2.INTER_CUBIC,
    "bilinear": cv2.INTER_LINEAR,
    "nearest": cv2.INTER_NEAREST,
}


def target_in_image(target: Box, width: int, height: int) -> Box:
    """The target clipped to the image; a target wholly outside is a rejection, not a crash."""
    try:
        return target.clip(width, height)
    except BoxError as exc:
        raise ViewRejected(TARGET_OUTSIDE_IMAGE, str(exc)) from exc


def overlap(window: Box, target: Box) -> tuple[float, float]:
    """``(IoU, fraction of the target inside the window)``."""
    return window.iou(target), target.intersection_over(window)


def crop(image: np.ndarray, box: Box) -> np.ndarray:
    """The pixels of an integer-edged ``box`` (a view into ``image``)."""
    x1, y1, x2, y2 = (int(v) for v in box.to_list())
    return image[y1:y2, x1:x2]


def window_size(box: Box) -> tuple[int, int]:
    """``(width, height)`` in whole pixels of an integer-edged box."""
    return int(round(box.width)), int(round(box.height))


def resize(pixels: np.ndarray, width: int, height: int, interpolation: int | None = None) -> np.ndarray:
    """Resize to ``width x height``; area averaging when shrinking, bicubic when growing by default."""
    if pixels.shape[1] == width and pixels.shape[0] == height:
        return pixels
    if interpolation is None:
        shrinking = width * height < pixels.shape[0] * pixels.shape[1]
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(pixels, (width, height), interpolation=interpolation)


def _split(limit: int, bad_lo: int, bad_hi: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """``[0, limit]`` split into inclusive integer intervals outside and inside ``[bad_lo, bad_hi]``."""
    free = [(0, min(limit, bad_lo - 1)), (max(0, bad_hi + 1), limit)]
    blocked = [(max(0, bad_lo), min(limit, bad_hi))]
    return [(a, b) for a, b in free if a <= b], [(a, b) for a, b in blocked if a <= b]


def _count(intervals: list[tuple[int, int]]) -> int:
    return sum(b - a + 1 for a, b in intervals)


def _nth(intervals: list[tuple[int, int]], k: int) -> int:
    for a, b in intervals:
        if k <= b - a:
            return a + k
        k -= b - a + 1
    raise IndexError(k)


def sample_window(
    width: int, height: int, win_w: int, win_h: int, rng: np.random.Generator, avoid: Box | None = None
) -> Box:
    """A ``win_w x win_h`` window at a whole-pixel position inside a ``width x height`` frame.

    Without ``avoid`` the position is uniform over the frame. With ``avoid`` it is uniform over exactly
    the positions whose window shares no area with ``avoid`` (no rejection sampling, so tight fits
    are found whenever they exist); when there are none it raises ``no_room_outside_target``.
    """
    if win_w > width or win_h > height or win_w < 1 or win_h < 1:
        raise ViewRejected(
            WINDOW_EXCEEDS_IMAGE, f"a {win_w}x{win_h} window does not fit in a {width}x{height} frame"
        )
    max_x, max_y = width - win_w, height - win_h
    if avoid is None:
        x, y = int(rng.integers(0, max_x + 1)), int(rng.integers(0, max_y + 1))
        return Box(x, y, x + win_w, y + win_h)
    # A window at x shares area with avoid iff avoid.x1 - win_w < x < avoid.x2 (same for y); the free
    # set is (free x) * (all y) plus (blocked x) * (free y), two disjoint products.
    all_y = [(0, max_y)]
    free_x, blocked_x = _split(max_x, math.floor(avoid.x1 - win_w) + 1, math.ceil(avoid.x2) - 1)
    free_y, _ = _split(max_y, math.floor(avoid.y1 - win_h) + 1, math.ceil(avoid.y2) - 1)
    n_free_x, n_blocked_x, n_free_y, n_all_y = _count(free_x), _count(blocked_x), _count(free_y), max_y + 1
    first = n_free_x * n_all_y
    total = first + n_blocked_x * n_free_y
    if total == 0:
        raise ViewRejected(
            NO_ROOM_OUTSIDE_TARGET,
            f"no {win_w}x{win_h} window in the {width}x{height} frame avoids "
            f"{[round(v, 1) for v in avoid.to_list()]}",
        )
    k = int(rng.integers(0, total))
    if k < first:
        x, y = _nth(free_x, k // n_all_y), _nth(all_y, k % n_all_y)
    else:
        k -= first
        x, y = _nth(blocked_x, k // n_free_y), _nth(free_y, k % n_free_y)
    return Box(x, y, x + win_w, y + win_h)
