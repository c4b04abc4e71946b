"""How the positive crop's window is chosen around the target box."""

from __future__ import annotations

import math

from pydantic import Field

from vzero_core.boxes import Box, union_box
from vzero_data.views.params import StrictParams


class CropPolicy(StrictParams):
    """The positive crop: target box plus context, kept inside the image.

    Steps, in order: grow by ``margin_ratio`` (width and height scale by ``1 + margin_ratio``) and
    ``margin_px`` per side; make it square if ``square``; widen the short side until the aspect
    ratio is at most ``max_aspect``; grow to ``min_side``; shift into the image (clip if larger);
    round out to whole pixels. Then, if ``upscale_min_pixels`` is set and the crop has fewer pixels,
    it is resized up (at most ``max_upscale`` times per side) so small crops survive a processor's
    minimum-pixel resize with detail intact. The crop box is recorded in original coordinates.
    """

    margin_ratio: float = Field(0.0, ge=0.0, le=10.0)
    margin_px: float = Field(0.0, ge=0.0)
    min_side: int = Field(32, ge=1)
    max_aspect: float = Field(4.0, ge=1.0)
    square: bool = False
    upscale_min_pixels: int | None = Field(None, ge=1)
    max_upscale: float = Field(8.0, ge=1.0)


def shift_into(box: Box, width: int, height: int) -> Box:
    """Move ``box`` (keeping its size) so it lies inside ``[0, W] x [0, H]``; clip what cannot fit.

    A box that contained some sub-box of the image still contains it afterwards.
    """
    x1, y1, x2, y2 = box.to_list()
    dx = -x1 if x1 < 0 else (width - x2 if x2 > width else 0.0)
    dy = -y1 if y1 < 0 else (height - y2 if y2 > height else 0.0)
    x1, x2, y1, y2 = x1 + dx, x2 + dx, y1 + dy, y2 + dy
    return Box(max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2))


def _grow_to(box: Box, min_w: float, min_h: float) -> Box:
    cx, cy = box.center
    half_w, half_h = max(box.width, min_w) / 2.0, max(box.height, min_h) / 2.0
    return Box(cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def crop_box(target: Box, width: int, height: int, policy: CropPolicy) -> Box:
    """The positive crop window (integer pixel edges) for ``target`` in a ``width x height`` image.

    ``target`` must already lie inside the image; the result always contains it.
    """
    box = target.expand(ratio=policy.margin_ratio, pixels=policy.margin_px)
    if policy.square:
        side = max(box.width, box.height)
        box = _grow_to(box, side, side)
    if box.width > policy.max_aspect * box.height:
        box = _grow_to(box, 0.0, box.width / policy.max_aspect)
    elif box.height > policy.max_aspect * box.width:
        box = _grow_to(box, box.height / policy.max_aspect, 0.0)
    box = _grow_to(box, policy.min_side, policy.min_side)
    box = union_box([shift_into(box, width, height), target])  # exact containment despite float rounding
    x1, y1, x2, y2 = box.round_out()
    return Box(max(0, x1), max(0, y1), min(width, x2), min(height, y2))


def upscaled_size(width: int, height: int, policy: CropPolicy) -> tuple[int, int]:
    """Output size of a ``width x height`` crop under the policy's minimum-pixel upscaling."""
    if policy.upscale_min_pixels is None or width * height >= policy.upscale_min_pixels:
        return width, height
    factor = min(policy.max_upscale, math.sqrt(policy.upscale_min_pixels / (width * height)))
    return max(width, round(width * factor)), max(height, round(height * factor))
