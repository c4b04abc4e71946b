"""The positive view: the target region with context, as the teacher's evidence."""

from __future__ import annotations

import numpy as np

from vzero_core.boxes import Box
from vzero_data.views.crop_policy import CropPolicy, crop_box, upscaled_size
from vzero_data.views.encoding import check_rgb
from vzero_data.views.errors import DEGENERATE_VIEW, POSITIVE_MISSING_TARGET, ViewRejected
from vzero_data.views.geometry import crop, overlap, resize, target_in_image, window_size
from vzero_data.views.view import View

POSITIVE_STRATEGY = "crop"
# Part of the config hash: bump whenever the positive crop's pixels or box change for the same inputs.
POSITIVE_OUTPUT_VERSION = 1


def positive_view(image: np.ndarray, target: Box, policy: CropPolicy | None = None, seed: int = 0) -> View:
    """Crop ``target`` (plus the policy's context) out of ``image``; upscale small crops if asked.

    Raises :class:`ViewRejected` when the target lies outside the image, or the crop would not
    contain it or be degenerate. ``seed`` is recorded only: the crop is a deterministic function of
    image, box and policy.
    """
    policy = policy or CropPolicy()
    check_rgb(image)
    height, width = image.shape[:2]
    target = target_in_image(target, width, height)
    box = crop_box(target, width, height, policy)
    if not box.contains(target):
        raise ViewRejected(
            POSITIVE_MISSING_TARGET, f"crop {box.to_list()} does not contain target {target.to_list()}"
        )
    w, h = window_size(box)
    if w < 1 or h < 1:
        raise ViewRejected(DEGENERATE_VIEW, f"crop {box.to_list()} has no pixels")
    out_w, out_h = upscaled_size(w, h, policy)
    pixels = resize(crop(image, box), out_w, out_h)
    iou, inside = overlap(box, target)
    return View(
        kind="positive",
        strategy=POSITIVE_STRATEGY,
        params=policy.to_dict(),
        seed=int(seed),
        box=box,
        pixels=pixels,
        overlap_iou=iou,
        overlap_target=inside,
        checks={
            "target_box": target.to_list(),
            "contains_target": True,
            "crop_size": [w, h],
            "upscale_factor": round(out_w / w, 6),
            "aspect": round(max(w, h) / min(w, h), 6),
            "target_area_fraction": round(target.area / box.area, 6),
        },
    )
