"""Fingerprints of benchmark pictures, computed once and kept by the hash of the image's bytes.

One ``.npz`` file per picture in ``$VZERO_CACHE_DIR/fingerprints`` (default
``~/.cache/vzero/fingerprints``), named by the image's sha256, the region (if any), the algorithm
and the feature settings; written to a temporary name and renamed, so concurrent runs share it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vzero_data.fingerprints.rows import FINGERPRINT_ALGORITHM, Fingerprint


def default_cache_dir() -> Path:
    base = os.environ.get("VZERO_CACHE_DIR")
    return (Path(base) if base else Path.home() / ".cache" / "vzero") / "fingerprints"


class FingerprintCache:
    """``get(key, compute)``: the cached fingerprint for ``key``, computing and storing it once."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory else default_cache_dir()
        self.hits = 0
        self.misses = 0

    def path(self, key: str) -> Path:
        name = hashlib.sha256(f"{FINGERPRINT_ALGORITHM}|{key}".encode()).hexdigest()
        return self.directory / name[:2] / f"{name}.npz"

    def get(self, key: str, compute: Callable[[], Fingerprint]) -> Fingerprint:
        path = self.path(key)
        try:
            with np.load(path) as data:
                fp = Fingerprint(
                    int(data["phash"][0]),
                    int(data["size"][0]),
                    int(data["size"][1]),
                    data["keypoints"].astype(np.float32),
                    data["descriptors"].astype(np.uint8),
                )
            self.hits += 1
            return fp
        except (OSError, KeyError, ValueError):
            pass  # missing or unreadable: compute it again
        fp = compute()
        self.misses += 1
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    phash=np.array([fp.phash], np.uint64),
                    size=np.array([fp.width, fp.height], np.int64),
                    keypoints=fp.keypoints,
                    descriptors=fp.descriptors,
                )
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only cache only costs time
        return fp
