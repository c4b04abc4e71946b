"""The image pool of strategies that draw pixels from other images, built once per worker process."""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=8)
def image_pool(path: str, max_images: int, max_side: int) -> Any:
    """The image pool over a folder, built once per process (strategies that draw other images):
    its decoded images stay cached for every later sample of this worker."""
    from vzero_data.views import pool_from_paths

    return pool_from_paths(path, max_images=max_images, max_side=max_side)
