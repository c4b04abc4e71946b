"""``masked``: a context view (the positive's window, optionally wider) with the evidence removed.

The target box, grown by ``mask_margin`` pixels, is filled with black, the mean colour of the
unmasked context, a blur of the unmasked context (normalized convolution: the fill never mixes in
target pixels), uniform noise, or OpenCV inpainting (which reads only pixels outside the mask). The
view necessarily overlaps the target; its check is that the whole target box is masked.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np
from pydantic import Field

from vzero_core.boxes import Box
from vzero_data.views.crop_policy import shift_into
from vzero_data.views.errors import TARGET_PIXELS_REMAIN
from vzero_data.views.geometry import crop
from vzero_data.views.params import NegativeParams
from vzero_data.views.strategy import Candidate, NegativeStrategy, StrategyContext, scale_like_positive

Fill = Literal["black", "mean", "blur", "noise", "inpaint"]
INPAINT_METHODS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}
FALLBACK_GREY = 128


class MaskedParams(NegativeParams):
    fill: Fill = "mean"
    context_ratio: float = Field(0.0, ge=0.0, le=10.0, description="grow the positive's window by this")
    mask_margin: int = Field(2, ge=0, description="pixels masked around the target box")
    blur_sigma: float = Field(8.0, gt=0.0, le=200.0)
    inpaint_radius: int = Field(5, ge=1, le=50)
    inpaint_method: Literal["telea", "ns"] = "telea"


def _mean_outside(region: np.ndarray, keep: np.ndarray) -> np.ndarray:
    if not keep.any():
        return np.full(3, FALLBACK_GREY, dtype=np.uint8)
    return np.round(region[keep].mean(axis=0)).astype(np.uint8)


def fill_mask(
    region: np.ndarray, mask: np.ndarray, params: MaskedParams, rng: np.random.Generator
) -> np.ndarray:
    """``region`` with the pixels where ``mask`` is true replaced by ``params.fill``."""
    out = region.copy()
    keep = ~mask
    if params.fill == "black":
        out[mask] = 0
    elif params.fill == "mean":
        out[mask] = _mean_outside(region, keep)
    elif params.fill == "noise":
        out[mask] = rng.integers(0, 256, size=(int(mask.sum()), 3), dtype=np.uint8)
    elif params.fill == "inpaint":
        out = cv2.inpaint(
            region, mask.astype(np.uint8) * 255, params.inpaint_radius, INPAINT_METHODS[params.inpaint_method]
        )
    else:  # blur of the unmasked context only
        weight = keep.astype(np.float32)
        num = cv2.GaussianBlur(region.astype(np.float32) * weight[..., None], (0, 0), params.blur_sigma)
        den = cv2.GaussianBlur(weight, (0, 0), params.blur_sigma)
        blurred = np.where(
            den[..., None] > 1e-3, num / np.maximum(den, 1e-3)[..., None], _mean_outside(region, keep)
        )
        out[mask] = np.clip(np.round(blurred[mask]), 0, 255).astype(np.uint8)
    return out


def generate(
    image: np.ndarray, target: Box, params: MaskedParams, rng: np.random.Generator, ctx: StrategyContext
) -> Candidate:
    height, width = image.shape[:2]
    window = ctx.positive.box
    if params.context_ratio > 0:
        x1, y1, x2, y2 = shift_into(window.expand(ratio=params.context_ratio), width, height).round_out()
        window = Box(x1, y1, x2, y2)
    mx1, my1, mx2, my2 = target.expand(pixels=params.mask_margin).clip(width, height).round_out()
    mask_box = Box(max(mx1, window.x1), max(my1, window.y1), min(mx2, window.x2), min(my2, window.y2))
    region = crop(image, window)
    mask = np.zeros(region.shape[:2], dtype=bool)
    ox, oy = int(window.x1), int(window.y1)
    mask[int(mask_box.y1) - oy : int(mask_box.y2) - oy, int(mask_box.x1) - ox : int(mask_box.x2) - ox] = True
    pixels = scale_like_positive(fill_mask(region, mask, params, rng), ctx.positive)
    checks = {"mask_box": mask_box.to_list(), "masked_fraction": round(float(mask.mean()), 6)}
    return Candidate(pixels, window, checks=checks)


def verify(
    candidate: Candidate, target: Box, params: MaskedParams, ctx: StrategyContext
) -> tuple[str, str] | None:
    """The masked box must cover every pixel of the target that the window shows."""
    mask_box = Box.from_xyxy(candidate.checks["mask_box"])
    tx1, ty1, tx2, ty2 = target.round_out()
    shown = Box(
        max(tx1, candidate.box.x1),
        max(ty1, candidate.box.y1),
        min(tx2, candidate.box.x2),
        min(ty2, candidate.box.y2),
    )
    if not mask_box.contains(shown):
        return (
            TARGET_PIXELS_REMAIN,
            f"mask {mask_box.to_list()} leaves part of target {shown.to_list()} visible",
        )
    return None


STRATEGY = NegativeStrategy(
    name="masked",
    params_model=MaskedParams,
    generate=generate,
    verify=verify,
    summary="context view with the target region masked (black, mean, blur, noise, inpaint)",
)
