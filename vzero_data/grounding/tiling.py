"""Tiled inference for high-resolution images: sliding windows with overlap, boxes merged by NMS.

Detectors resize their input to about 800-1000 pixels, so a 20-pixel target in an 8K image shrinks
to 2 pixels and vanishes. Tiling runs the grounder on overlapping windows at (close to) native
resolution as well as on the whole image, maps every window's boxes back to the original frame,
drops boxes cut by an interior window edge (a neighbouring window holds the whole object, and
objects larger than the overlap are the full-image pass's job) and merges the rest by NMS.
Tiling is on by a size threshold (``mode="auto"``: longest side >= ``min_side``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from vzero_core.boxes import Box
from vzero_data.grounding.region import Region

LocateFn = Callable[[Sequence[Image.Image], Sequence[str]], list[list[Region]]]


class TilingConfig(BaseModel):
    """When and how to tile. Sizes are in original-image pixels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["auto", "always", "off"] = "auto"
    min_side: int = Field(2048, ge=1, description="auto mode tiles images whose longest side is >= this")
    tile_size: int = Field(1024, ge=32)
    overlap: float = Field(0.25, ge=0.0, lt=0.9, description="fraction of tile_size shared by neighbours")
    nms_iou: float = Field(0.5, gt=0.0, le=1.0)
    include_full_image: bool = True
    edge_margin: float = Field(
        2.0, ge=0.0, description="px; boxes this close to an interior tile edge are cut"
    )


def needs_tiling(width: int, height: int, config: TilingConfig) -> bool:
    if config.mode == "off":
        return False
    if max(width, height) <= config.tile_size:
        return False
    return config.mode == "always" or max(width, height) >= config.min_side


def _starts(length: int, tile: int, overlap: float) -> list[int]:
    if length <= tile:
        return [0]
    stride = tile * (1.0 - overlap)
    count = math.ceil((length - tile) / stride) + 1
    return sorted({int(round(s)) for s in np.linspace(0, length - tile, count)})


def tile_windows(width: int, height: int, tile_size: int, overlap: float) -> list[Box]:
    """Windows of ``tile_size`` (smaller only where the image is) covering the image, evenly spaced
    so that neighbours share at least ``overlap * tile_size`` pixels."""
    tw, th = min(tile_size, width), min(tile_size, height)
    return [
        Box(x, y, x + tw, y + th)
        for y in _starts(height, tile_size, overlap)
        for x in _starts(width, tile_size, overlap)
    ]


def plan_views(width: int, height: int, config: TilingConfig) -> list[Box | None]:
    """The views one image is grounded on: ``None`` is the whole image, a Box a tile window."""
    if not needs_tiling(width, height, config):
        return [None]
    tiles: list[Box | None] = list(tile_windows(width, height, config.tile_size, config.overlap))
    return ([None] if config.include_full_image else []) + tiles


def is_cut_by_tile(box: Box, tile: Box, width: int, height: int, margin: float) -> bool:
    """True when ``box`` (original frame) touches an edge of ``tile`` that lies inside the image."""
    return (
        (tile.x1 > 0 and box.x1 - tile.x1 <= margin)
        or (tile.y1 > 0 and box.y1 - tile.y1 <= margin)
        or (tile.x2 < width and tile.x2 - box.x2 <= margin)
        or (tile.y2 < height and tile.y2 - box.y2 <= margin)
    )


def nms(regions: Sequence[Region], iou_threshold: float) -> list[Region]:
    """Greedy non-maximum suppression, best score first: a region is dropped when its IoU with an
    already kept one exceeds ``iou_threshold``. (OpenCV's NMSBoxes silently drops scores <= 0.)"""
    if not regions:
        return []
    ranked = sorted(regions, key=lambda r: r.score, reverse=True)
    xyxy = np.array([r.box.to_list() for r in ranked])
    areas = (xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1])
    suppressed = np.zeros(len(ranked), dtype=bool)
    kept = []
    for i in range(len(ranked)):
        if suppressed[i]:
            continue
        kept.append(ranked[i])
        w = np.clip(np.minimum(xyxy[i, 2], xyxy[:, 2]) - np.maximum(xyxy[i, 0], xyxy[:, 0]), 0, None)
        h = np.clip(np.minimum(xyxy[i, 3], xyxy[:, 3]) - np.maximum(xyxy[i, 1], xyxy[:, 1]), 0, None)
        inter = w * h
        suppressed |= inter / (areas[i] + areas - inter) > iou_threshold
    return kept


def merge_views(
    per_view: Sequence[list[Region]],
    views: Sequence[Box | None],
    width: int,
    height: int,
    config: TilingConfig,
) -> list[Region]:
    """Map each view's regions into the original frame, drop cut ones, and merge by NMS."""
    merged: list[Region] = []
    for regions, view in zip(per_view, views, strict=True):
        for region in regions:
            if view is None:
                merged.append(region)
                continue
            box = region.box.translate(view.x1, view.y1).clip(width, height)
            if config.include_full_image and is_cut_by_tile(box, view, width, height, config.edge_margin):
                continue
            provenance = {**region.provenance, "tile": view.to_list()}
            merged.append(Region(box, region.score, region.phrase, provenance))
    return nms(merged, config.nms_iou)


def locate_tiled(
    locate: LocateFn,
    images: Sequence[Image.Image],
    phrases: Sequence[str],
    config: TilingConfig,
    *,
    max_regions: int | None = None,
) -> list[list[Region]]:
    """Ground ``images`` with ``locate``, tiling those that need it (one image's tiles at a time, so
    memory stays bounded by one image's windows). Untiled images go to ``locate`` together."""
    results: list[list[Region] | None] = [None] * len(images)
    plain = [i for i, im in enumerate(images) if not needs_tiling(im.width, im.height, config)]
    if plain:
        found = locate([images[i] for i in plain], [phrases[i] for i in plain])
        for i, regions in zip(plain, found, strict=True):
            results[i] = regions
    for i, image in enumerate(images):
        if results[i] is not None:
            continue
        views = plan_views(image.width, image.height, config)
        crops = [image if v is None else image.crop(tuple(int(c) for c in v.to_list())) for v in views]
        per_view = locate(crops, [phrases[i]] * len(crops))
        results[i] = merge_views(per_view, views, image.width, image.height, config)[:max_regions]
    return [r if r is not None else [] for r in results]


def count_views(sizes: Sequence[tuple[int, int]], config: TilingConfig) -> int:
    """How many model inputs grounding images of these ``(width, height)`` sizes takes."""
    return sum(len(plan_views(w, h, config)) for w, h in sizes)


class TiledGrounder:
    """Wrap any grounder so that large images are tiled (model backends tile by themselves)."""

    def __init__(self, inner: Any, config: TilingConfig | None = None) -> None:
        self.inner = inner
        self.config = config or TilingConfig(mode="always")

    @property
    def device(self) -> str:
        return self.inner.device

    @property
    def provenance(self) -> dict[str, Any]:
        return {**self.inner.provenance, "tiling": self.config.model_dump()}

    def locate(self, images, phrases, *, samples=None) -> list[list[Region]]:
        return locate_tiled(self.inner.locate, images, phrases, self.config)
