"""Where ``cross_image`` draws its other images from."""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from PIL import Image

from vzero_data.views.encoding import check_rgb
from vzero_data.views.view import pixels_digest

MAX_DRAWS = 16


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


def file_sha256(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class PathImagePool:
    """Image files, identified by the SHA-256 of their bytes (as ``Sample.image_sha256`` is).

    Paths are sorted, so the draw does not depend on listing order. Hashes are computed once per
    file, on first draw; the last ``cache_size`` decoded images stay in memory.
    """

    def __init__(self, paths: Sequence[str | os.PathLike[str]], cache_size: int = 4) -> None:
        self._paths = sorted(str(p) for p in paths)
        if not self._paths:
            raise ValueError("PathImagePool needs at least one image path")
        self._sha: dict[str, str] = {}
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    def __len__(self) -> int:
        return len(self._paths)

    def _sha_of(self, path: str) -> str:
        if path not in self._sha:
            self._sha[path] = file_sha256(path)
        return self._sha[path]

    def _load(self, path: str) -> np.ndarray:
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        try:
            with Image.open(path) as im:
                pixels = np.asarray(im.convert("RGB"))
        except (OSError, Image.DecompressionBombError) as exc:
            raise ValueError(f"pool image {path}: cannot read ({exc})") from exc
        self._cache[path] = pixels
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return pixels

    def sample_other(self, exclude_sha256: str | None, rng: np.random.Generator) -> tuple[str, np.ndarray]:
        # Draw by index first so only the drawn files are hashed; fall back to a full scan.
        for _ in range(MAX_DRAWS):
            path = self._paths[int(rng.integers(0, len(self._paths)))]
            if self._sha_of(path) != exclude_sha256:
                return self._sha_of(path), self._load(path)
        keys = [self._sha_of(p) for p in self._paths]
        path = self._paths[_draw_key(keys, exclude_sha256, rng)]
        return self._sha_of(path), self._load(path)


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


def pool_from_paths(paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str]) -> PathImagePool:
    """A pool over explicit paths, or over every PNG/JPEG/WebP file under a directory."""
    if isinstance(paths, (str, os.PathLike)):
        return PathImagePool(pool_files(paths))
    return PathImagePool(paths)
