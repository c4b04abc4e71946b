"""Converters between :class:`~vzero_core.boxes.Box` and the box conventions found at vzero's edges.

Each function is named for the convention it reads (boxes enter the project in one form, ``xyxy``
absolute pixels of the original image, and nothing in it writes another):

=====================  ==============================================================  ==========================
convention             meaning                                                         used by
=====================  ==============================================================  ==========================
xywh pixels            ``[x, y, w, h]``, top-left corner plus size, absolute pixels     V* Bench, COCO
normalized xyxy        ``[x1, y1, x2, y2]`` as fractions of width / height              FiftyOne-style, detectors
0-1000 grid            ``[x1, y1, x2, y2]`` scaled to ``0..1000`` on both axes          Qwen2-VL, Qwen3-VL, Florence-2
Qwen2.5-VL resized     absolute pixels of the processor-resized image (``smart_resize``) Qwen2.5-VL
=====================  ==============================================================  ==========================
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from vzero_core.boxes import Box, BoxError

GRID_SIZE = 1000.0

# Qwen2.5-VL processor defaults (preprocessor_config.json of the released checkpoints).
QWEN25_PATCH_FACTOR = 28
QWEN25_MIN_PIXELS = 56 * 56
QWEN25_MAX_PIXELS = 28 * 28 * 16384
QWEN25_MAX_ASPECT_RATIO = 200


def _four(values: Sequence[float], what: str) -> tuple[float, float, float, float]:
    if isinstance(values, (str, bytes)) or len(values) != 4:
        raise BoxError(f"invalid {what} box {values!r}: expected 4 numbers")
    return tuple(float(v) for v in values)  # type: ignore[return-value]


def _check_size(width: float, height: float) -> None:
    if not (width > 0 and height > 0):
        raise BoxError(f"image size must be positive, got {width}x{height}")


def box_from_xywh(xywh: Sequence[float]) -> Box:
    """``[x, y, w, h]`` in pixels (V* Bench, COCO) to a Box."""
    x, y, w, h = _four(xywh, "xywh")
    return Box(x, y, x + w, y + h)


def box_from_normalized(xyxy: Sequence[float], image_width: int, image_height: int) -> Box:
    """``[x1, y1, x2, y2]`` as fractions of the image size to a Box in pixels."""
    _check_size(image_width, image_height)
    x1, y1, x2, y2 = _four(xyxy, "normalized xyxy")
    return Box(x1 * image_width, y1 * image_height, x2 * image_width, y2 * image_height)


def box_from_grid1000(xyxy: Sequence[float], image_width: int, image_height: int) -> Box:
    """A 0-1000 grid box (Qwen2-VL, Qwen3-VL, Florence-2) to a Box in pixels of the original image."""
    x1, y1, x2, y2 = _four(xyxy, "0-1000 grid")
    return box_from_normalized(
        [x1 / GRID_SIZE, y1 / GRID_SIZE, x2 / GRID_SIZE, y2 / GRID_SIZE], image_width, image_height
    )


def qwen25_smart_resize(
    height: int,
    width: int,
    factor: int = QWEN25_PATCH_FACTOR,
    min_pixels: int = QWEN25_MIN_PIXELS,
    max_pixels: int = QWEN25_MAX_PIXELS,
) -> tuple[int, int]:
    """The ``(height, width)`` the Qwen2.5-VL processor resizes an image to.

    Both sides become multiples of ``factor`` (28 = patch 14 x merge 2), the aspect ratio is kept as
    closely as possible and the pixel count is brought inside ``[min_pixels, max_pixels]``. Mirrors
    ``smart_resize`` of transformers' Qwen2-VL image processor, including Python's round-half-to-even.
    """
    _check_size(width, height)
    if max(height, width) / min(height, width) > QWEN25_MAX_ASPECT_RATIO:
        raise BoxError(
            f"aspect ratio of {width}x{height} exceeds {QWEN25_MAX_ASPECT_RATIO}; Qwen2.5-VL cannot process it"
        )
    h_bar = round(height / factor) * factor
    w_bar = round(width / factor) * factor
    if h_bar * w_bar > max_pixels:
        beta = math.sqrt((height * width) / max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif h_bar * w_bar < min_pixels:
        beta = math.sqrt(min_pixels / (height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


def box_from_qwen25_resized(
    xyxy: Sequence[float],
    image_width: int,
    image_height: int,
    *,
    min_pixels: int = QWEN25_MIN_PIXELS,
    max_pixels: int = QWEN25_MAX_PIXELS,
) -> Box:
    """A box in Qwen2.5-VL's resized-pixel frame to a Box in pixels of the original image."""
    resized_h, resized_w = qwen25_smart_resize(
        image_height, image_width, min_pixels=min_pixels, max_pixels=max_pixels
    )
    x1, y1, x2, y2 = _four(xyxy, "Qwen2.5-VL resized")
    sx, sy = image_width / resized_w, image_height / resized_h
    return Box(x1 * sx, y1 * sy, x2 * sx, y2 * sy)
