"""What a preview shows for one sample, independent of where it was read from."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from vzero_core.boxes import Box
from vzero_data.views.folder import SampleViews, read_views_folder


@dataclass(frozen=True)
class PreviewTile:
    """One view: ``pixels`` is ``None`` for a rejected negative (then ``caption`` says why)."""

    label: str
    pixels: np.ndarray | None
    caption: str = ""
    box: Box | None = None  # source window in the full image, drawn on it
    kind: str = "negative"


@dataclass(frozen=True)
class PreviewItem:
    sample_id: str
    question: str
    image: np.ndarray
    target: Box | None
    tiles: Sequence[PreviewTile] = field(default_factory=tuple)


def view_caption(box: Sequence[float] | None, overlap_target: float, size: tuple[int, int]) -> str:
    """``WxH [x1, y1, x2, y2] overlap 0.00``: pixel size, source window, share of the target inside it."""
    where = "other image" if box is None else "[" + ", ".join(f"{v:.0f}" for v in box) + "]"
    return f"{size[0]}x{size[1]} {where} overlap {overlap_target:.2f}"


def rejected_tile(strategy: str, reason: str, detail: str = "") -> PreviewTile:
    return PreviewTile(
        label=strategy, pixels=None, caption=f"rejected: {reason}" + (f" ({detail})" if detail else "")
    )


def _sort_key(tile: PreviewTile) -> tuple[int, str]:
    return (0 if tile.kind == "positive" else 1 if tile.pixels is not None else 2, tile.label)


def sorted_tiles(tiles: Sequence[PreviewTile]) -> list[PreviewTile]:
    """Positive first, then negatives by strategy, then rejections."""
    return sorted(tiles, key=_sort_key)


def item_from_sample_views(sample: SampleViews) -> PreviewItem:
    tiles = [
        PreviewTile(
            label="positive" if v.kind == "positive" else v.strategy,
            pixels=v.pixels,
            caption=view_caption(v.box.to_list() if v.box else None, v.overlap_target, (v.width, v.height)),
            box=v.box,
            kind=v.kind,
        )
        for v in sample.views
    ]
    tiles += [
        rejected_tile(r.get("strategy", "?"), r.get("reason", "?"), r.get("detail", ""))
        for r in sample.rejects
    ]
    return PreviewItem(sample.sample_id, sample.question, sample.image, sample.target, sorted_tiles(tiles))


def items_from_views_folder(folder: str | os.PathLike[str], n: int = 8) -> Iterator[PreviewItem]:
    """The first ``n`` samples of a folder written by :func:`vzero_data.views.write_views_folder`."""
    for sample in read_views_folder(folder, limit=n):
        yield item_from_sample_views(sample)


def target_from_checks(checks: Mapping) -> Box | None:
    box = checks.get("target_box")
    return Box.from_xyxy(box) if box else None
