"""``View``: one positive crop or negative view, with everything needed to regenerate it."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import cv2
import numpy as np

from vzero_core.boxes import Box
from vzero_data.views.encoding import check_rgb, encode_rgb

ViewKind = Literal["positive", "negative"]
VIEW_ID_HEX_CHARS = 24


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the stored form of params and checks."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def pixels_digest(pixels: np.ndarray) -> str:
    """SHA-256 of an array's shape and raw bytes: identical pixels, identical digest."""
    h = hashlib.sha256(f"{pixels.shape}|{pixels.dtype}".encode())
    h.update(np.ascontiguousarray(pixels).data)
    return h.hexdigest()


def channel_moments(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and (population) standard deviation of an ``H x W x C`` array, as float64
    vectors: one pass of ``cv2.meanStdDev``, whose sums of uint8 values are exact in float64."""
    mean, std = cv2.meanStdDev(np.ascontiguousarray(pixels))
    return mean.ravel(), std.ravel()


def overall_std(means: np.ndarray, stds: np.ndarray) -> float:
    """The standard deviation of all of an array's values, from its :func:`channel_moments`
    (every channel has as many values, so the overall second moment is the channels' mean)."""
    variance = float(np.mean(stds**2 + means**2) - np.mean(means) ** 2)
    return math.sqrt(max(variance, 0.0))


@dataclass(frozen=True, eq=False)
class View:
    """A view of a sample's image.

    ``box`` is the source window in ORIGINAL image coordinates (``None`` when the pixels come from
    another image: then ``source_image_sha256`` names it). ``overlap_iou`` is the IoU of ``box`` with
    the target, ``overlap_target`` the fraction of the target box inside ``box``. ``params`` holds
    the strategy's parameters with defaults filled in, so ``(strategy, params, seed)`` regenerates
    the view bit for bit. ``pixels`` is read-only.
    """

    kind: ViewKind
    strategy: str
    params: dict[str, Any]
    seed: int
    box: Box | None
    pixels: np.ndarray
    overlap_iou: float
    overlap_target: float
    source_image_sha256: str | None = None
    checks: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in ("positive", "negative"):
            raise ValueError(f"view kind must be 'positive' or 'negative', got {self.kind!r}")
        pixels = check_rgb(self.pixels, f"{self.kind} view {self.strategy!r}")
        # Own a compact read-only copy: never alias (and keep alive) the caller's full image.
        if pixels.flags.writeable or pixels.base is not None or not pixels.flags.c_contiguous:
            pixels = np.array(pixels, order="C", copy=True)
            pixels.setflags(write=False)
            object.__setattr__(self, "pixels", pixels)

    @cached_property
    def digest(self) -> str:
        """:func:`pixels_digest` of the view, computed once: the view id and the duplicate check share it."""
        return pixels_digest(self.pixels)

    @cached_property
    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """:func:`channel_moments` of the view, computed once: the flat-view check and the negatives'
        ``pixel_std`` share it."""
        return channel_moments(self.pixels)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    def encode(self, fmt: str = "png", quality: int = 95) -> bytes:
        """Encoded pixels; deterministic for a given format and quality."""
        return encode_rgb(self.pixels, fmt, quality)

    def to_png_bytes(self) -> bytes:
        return self.encode("png")

    def view_id(self, sample_id: str | None = None) -> str:
        """Stable id from the sample, what made the view, and its pixels."""
        key = "\x1f".join(
            [
                sample_id or "",
                self.kind,
                self.strategy,
                canonical_json(self.params),
                str(self.seed),
                self.digest,
            ]
        )
        return hashlib.sha256(key.encode()).hexdigest()[:VIEW_ID_HEX_CHARS]

    def to_row(self, sample_id: str | None = None, *, image_format: str = "png", quality: int = 95) -> dict:
        """A row of the store's ``views`` table (the store adds ``sample_id`` and ``config_hash``).

        ``view_id`` covers the pixels before encoding, so a regenerated view matches it bit for bit
        whatever format and quality the store encodes with (PNG, the default, is lossless).
        """
        fmt = "jpeg" if image_format.lower() == "jpg" else image_format.lower()
        return {
            "view_id": self.view_id(sample_id),
            "kind": self.kind,
            "strategy": self.strategy,
            "params": canonical_json(self.params),
            "seed": int(self.seed),
            "box": self.box.to_list() if self.box is not None else None,
            "source_image_sha256": self.source_image_sha256,
            "width": self.width,
            "height": self.height,
            "image_format": fmt,
            "image_quality": None if fmt == "png" else int(quality),
            "image_bytes": self.encode(fmt, quality),
            "overlap_iou": float(self.overlap_iou),
            "overlap_target": float(self.overlap_target),
            "valid": True,
            "checks": canonical_json(self.checks),
        }
