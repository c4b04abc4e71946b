"""A :class:`Fingerprint` and its row in the store's ``fingerprints`` table (numpy only: cheap to import)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Bump when the hash or the features change: stored fingerprints of another algorithm are ignored
# (and recomputed by ``vzero-data fingerprint``).
FINGERPRINT_ALGORITHM = "phash64+orb32/v1"
DESCRIPTOR_BYTES = 32


@dataclass(frozen=True)
class Fingerprint:
    """What the matchers need of one picture: its pHash, its size, and its local features."""

    phash: int
    width: int
    height: int
    keypoints: np.ndarray  # (n, 2) float32, x y in the picture's pixels
    descriptors: np.ndarray  # (n, 32) uint8, ORB

    def __post_init__(self) -> None:
        if len(self.keypoints) != len(self.descriptors):
            raise ValueError(f"{len(self.keypoints)} keypoints but {len(self.descriptors)} descriptors")


def fingerprint_row(
    fp: Fingerprint,
    subject: str,
    subject_id: str,
    *,
    image_sha256: str,
    sample_id: str | None = None,
    config_hash: str | None = None,
    box: Sequence[float] | None = None,
) -> dict[str, Any]:
    """The ``fingerprints`` row of ``fp``: ``subject`` "image" (``subject_id`` its sha256) or "view"
    (``subject_id`` the view id; ``sample_id``, ``config_hash`` and the window ``box`` given)."""
    return {
        "subject": subject,
        "subject_id": subject_id,
        "sample_id": sample_id,
        "config_hash": config_hash,
        "image_sha256": image_sha256,
        "box": None if box is None else [float(v) for v in box],
        "algorithm": FINGERPRINT_ALGORITHM,
        "width": fp.width,
        "height": fp.height,
        "phash": fp.phash,
        "keypoints": np.ascontiguousarray(fp.keypoints, dtype="<f4").tobytes(),
        "descriptors": np.ascontiguousarray(fp.descriptors, dtype=np.uint8).tobytes(),
    }


def fingerprint_from_row(row: Mapping[str, Any]) -> Fingerprint:
    """Inverse of :func:`fingerprint_row`."""
    points = np.frombuffer(row["keypoints"] or b"", dtype="<f4").reshape(-1, 2).astype(np.float32)
    descriptors = np.frombuffer(row["descriptors"] or b"", dtype=np.uint8).reshape(-1, DESCRIPTOR_BYTES)
    return Fingerprint(int(row["phash"]), int(row["width"]), int(row["height"]), points, descriptors)
