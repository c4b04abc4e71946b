"""Where ``cross_image`` draws its other images from."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import cv2
import numpy as np

from vzero_core.file_hash import file_sha256
from vzero_data.views.encoding import check_rgb, decode_rgb
from vzero_data.views.view import pixels_digest

MAX_DRAWS = 16
# After this many draws a pool decodes the rest of its images ahead on a background thread (OpenCV
# and hashlib release the GIL): a run that long will draw from most of them, and a core the worker
# leaves idle (the driver's, with one worker) takes the decoding off the samples' path. Short runs
# never start it, so they decode only what they draw.
PREFETCH_AFTER_DRAWS = 8


@runtime_checkable
class ImagePool(Protocol):
    """A set of images to draw from; ``sample_other`` never returns the image ``exclude_sha256``."""

    def sample_other(self, exclude_sha256: str | None, rng: np.random.Generator) -> tuple[str, np.ndarray]:
        """Return ``(sha256, RGB uint8 array)`` of an image other than ``exclude_sha256``."""
        ...


def _draw_key(keys: Sequence[str], exclude: str | None, rng: np.random.Generator) -> int:
    """Index of a uniformly drawn key different from ``exclude``; ``LookupError`` if there is none."""
    candidates = [i for i, k in enumerate(keys) if k != exclude]
    if not candidates:
        raise LookupError(f"the image pool holds no image other than {exclude}")
    return candidates[int(rng.integers(0, len(candidates)))]


class InMemoryImagePool:
    """Arrays held in memory, keyed by sha256 (given, or the digest of their pixels)."""

    def __init__(self, images: Mapping[str, np.ndarray] | Sequence[np.ndarray]) -> None:
        items = images.items() if isinstance(images, Mapping) else ((pixels_digest(a), a) for a in images)
        self._images = {k: check_rgb(v, f"pool image {k}") for k, v in sorted(items, key=lambda kv: kv[0])}
        self._keys = list(self._images)

    def __len__(self) -> int:
        return len(self._keys)

    def sample_other(self, exclude_sha256: str | None, rng: np.random.Generator) -> tuple[str, np.ndarray]:
        key = self._keys[_draw_key(self._keys, exclude_sha256, rng)]
        return key, self._images[key]


# How many of a folder's images a pool draws from, and the longer side they are kept at: together
# they bound a pool's memory (about 32 x 1024 x 1024 x 3 bytes = 100 MB per worker at most).
DEFAULT_POOL_IMAGES = 32
DEFAULT_POOL_MAX_SIDE = 1024


def spaced_selection(items: Sequence[str], count: int) -> list[str]:
    """``count`` items spread evenly over ``items`` (all of them when there are no more than ``count``)."""
    if len(items) <= count:
        return list(items)
    return [items[(i * len(items)) // count] for i in range(count)]


def fit_side(pixels: np.ndarray, max_side: int) -> np.ndarray:
    """``pixels`` downscaled (area interpolation) so that its longer side is at most ``max_side``."""
    h, w = pixels.shape[:2]
    if max(h, w) <= max_side:
        return pixels
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


class PathImagePool:
    """Image files, identified by the SHA-256 of their bytes (as ``Sample.image_sha256`` is).

    The pool draws from at most ``max_images`` of the files: an evenly spaced selection of the sorted
    paths, so neither the listing order nor the folder's size changes which images a view can show.
    Each is read, hashed and decoded once, on its first draw, and kept in memory downscaled to at
    most ``max_side`` pixels on its longer side: a worker never decodes a pool image twice, and the
    pool's memory stays bounded however large the folder or its images are. After
    ``PREFETCH_AFTER_DRAWS`` draws the images not drawn yet are decoded ahead on a background
    thread; what a draw returns does not depend on which thread decoded it.
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        max_images: int = DEFAULT_POOL_IMAGES,
        max_side: int = DEFAULT_POOL_MAX_SIDE,
    ) -> None:
        if max_images < 1 or max_side < 1:
            raise ValueError(f"max_images and max_side must be >= 1, got {max_images} and {max_side}")
        ordered = sorted(str(p) for p in paths)
        if not ordered:
            raise ValueError("PathImagePool needs at least one image path")
        self._paths = spaced_selection(ordered, max_images)
        self._max_side = max_side
        self._loaded: dict[str, tuple[str, np.ndarray]] = {}
        self._locks = {p: threading.Lock() for p in self._paths}
        self._draws = 0

    def __len__(self) -> int:
        return len(self._paths)

    def _load(self, path: str) -> tuple[str, np.ndarray]:
        """``(sha256 of the file, its downscaled pixels)``, read and decoded on first use only."""
        loaded = self._loaded.get(path)
        if loaded is not None:
            return loaded
        with self._locks[path]:  # the prefetch thread may be decoding this very file
            loaded = self._loaded.get(path)
            if loaded is None:
                try:
                    data = Path(path).read_bytes()
                    pixels = decode_rgb(data, f"pool image {path}")
                except (OSError, ValueError) as exc:
                    raise ValueError(f"pool image {path}: cannot read ({exc})") from exc
                pixels = fit_side(pixels, self._max_side)
                pixels.setflags(write=False)
                loaded = self._loaded[path] = (hashlib.sha256(data).hexdigest(), pixels)
        return loaded

    def _prefetch(self) -> None:
        for path in self._paths:
            try:
                self._load(path)
            except ValueError:  # reported by the draw that picks it, with the sample that drew it
                continue

    def sample_other(self, exclude_sha256: str | None, rng: np.random.Generator) -> tuple[str, np.ndarray]:
        self._draws += 1
        if self._draws == PREFETCH_AFTER_DRAWS and len(self._loaded) < len(self._paths):
            threading.Thread(target=self._prefetch, name="vzero-pool-prefetch", daemon=True).start()
        # Draw by index first so only the drawn files are loaded; fall back to a full scan.
        for _ in range(MAX_DRAWS):
            sha, pixels = self._load(self._paths[int(rng.integers(0, len(self._paths)))])
            if sha != exclude_sha256:
                return sha, pixels
        keys = [self._load(p)[0] for p in self._paths]
        return self._load(self._paths[_draw_key(keys, exclude_sha256, rng)])


def pool_files(root: str | os.PathLike[str]) -> list[Path]:
    """Every PNG/JPEG/WebP file under ``root``, sorted: what a folder pool draws from."""
    root = Path(root)
    found = sorted(p for p in root.rglob("*") if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".webp"})
    if not found:
        raise ValueError(f"no images (png/jpg/webp) under {root}")
    return found


def pool_digest(root: str | os.PathLike[str]) -> str:
    """SHA-256 over the pool folder's files (relative path and content), not where it lives: two
    copies of one pool draw the same images, so they give the same digest."""
    h = hashlib.sha256()
    for path in pool_files(root):
        h.update(f"{path.relative_to(root).as_posix()}\0{file_sha256(path)}\n".encode())
    return h.hexdigest()


def pool_from_paths(
    paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
    *,
    max_images: int = DEFAULT_POOL_IMAGES,
    max_side: int = DEFAULT_POOL_MAX_SIDE,
) -> PathImagePool:
    """A pool over explicit paths, or over every PNG/JPEG/WebP file under a directory."""
    if isinstance(paths, (str, os.PathLike)):
        paths = pool_files(paths)
    return PathImagePool(paths, max_images=max_images, max_side=max_side)
