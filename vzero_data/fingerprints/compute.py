"""Perceptual fingerprints of an image: a 64-bit pHash of the whole picture and ORB local features.

The pHash (``imagehash.phash``: DCT of a 32x32 grey thumbnail, 64 low-frequency signs) survives
resizing, re-encoding and colour changes, and two hashes compare by Hamming distance, so an index
finds near-duplicates without comparing every pair (:mod:`.phash_index`). It does not survive
cropping: measured on this project's fixtures, shifting a window by 6% of its side moves its hash
as far as an unrelated image's. Regions are therefore matched with local features: ORB keypoints
(OpenCV), spread over the image on a grid so a small region still has its share, whose matches
give the similarity transform that places one image inside another (:mod:`.regions`).

Keypoints are in the pixel frame of what was fingerprinted (an image, or a positive crop's pixels).
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from vzero_data.fingerprints.rows import DESCRIPTOR_BYTES, Fingerprint

PHASH_THUMBNAIL = 256  # the pHash is taken from a grey thumbnail at most this big (as good, far cheaper)
FEATURE_MAX_SIDE = 1024  # local features are found on a grey copy at most this big
IMAGE_FEATURES = 500
CROP_FEATURES = 300
# A benchmark image is fingerprinted once (and cached), so it affords more features, found nearer
# full resolution: a training crop may be a small part of it.
BENCHMARK_FEATURES = 2000
BENCHMARK_MAX_SIDE = 2048
FEATURE_GRID = 8  # keypoints are taken round-robin over an 8x8 grid of cells, strongest first
ORB_FAST_THRESHOLD = 12
DETECT_FACTOR = 10  # candidates detected per keypoint kept (fewer would drop weak cells before the grid)


def grey(pixels: np.ndarray | Image.Image) -> np.ndarray:
    """A uint8 grey copy of RGB (or already grey) pixels."""
    arr = np.asarray(pixels)
    if arr.ndim == 2:
        return np.ascontiguousarray(arr, dtype=np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(arr[..., :3], dtype=np.uint8), cv2.COLOR_RGB2GRAY)


def shrink(gray: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """``gray`` area-averaged down so its longer side is at most ``max_side``, and the scale used."""
    h, w = gray.shape
    scale = min(1.0, max_side / max(h, w))
    if scale >= 1.0:
        return gray, 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    while gray.shape[1] >= 2 * size[0] and gray.shape[0] >= 2 * size[1]:
        gray = cv2.pyrDown(gray)  # halving first: area-averaging a big image in one step is slow
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), scale


def phash64(gray: np.ndarray) -> int:
    """``imagehash.phash`` of a grey picture (from a thumbnail of at most 256 px) as an int; a
    copy already shrunk for the features serves as well as the full picture."""
    import imagehash

    small, _ = shrink(gray, PHASH_THUMBNAIL)
    return int(str(imagehash.phash(Image.fromarray(small))), 16)


def orb_features(gray: np.ndarray, n: int, max_side: int = FEATURE_MAX_SIDE) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``n`` ORB keypoints (in ``gray``'s pixels) and descriptors, spread over a grid: the
    strongest of every cell first, then the second strongest of every cell, and so on."""
    small, scale = shrink(gray, max_side)
    return features_of_shrunk(small, scale, n)


def features_of_shrunk(small: np.ndarray, scale: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`orb_features` of a copy already shrunk by ``scale``."""
    # Detect many (cheap), keep n spread over the grid, describe only those.
    orb = cv2.ORB_create(nfeatures=max(DETECT_FACTOR * n, 2000), fastThreshold=ORB_FAST_THRESHOLD)
    keypoints = orb.detect(small, None)
    if not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
    points = np.array([k.pt for k in keypoints], np.float32)
    response = np.array([k.response for k in keypoints], np.float32)
    h, w = small.shape
    col = np.minimum((points[:, 0] * FEATURE_GRID // w).astype(int), FEATURE_GRID - 1)
    row = np.minimum((points[:, 1] * FEATURE_GRID // h).astype(int), FEATURE_GRID - 1)
    cell = row * FEATURE_GRID + col
    order = np.lexsort((-response, cell))  # by cell, strongest first within a cell
    starts = np.r_[0, np.flatnonzero(np.diff(cell[order])) + 1]
    rank = np.empty(len(order), int)
    rank[order] = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    chosen = np.lexsort((-response, rank))[:n]
    keypoints, descriptors = orb.compute(small, [keypoints[i] for i in chosen])
    if descriptors is None or not keypoints:
        return np.zeros((0, 2), np.float32), np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
    points = np.array([k.pt for k in keypoints], np.float32)
    return np.ascontiguousarray(points / scale), np.ascontiguousarray(descriptors)


def fingerprint(
    pixels: np.ndarray | Image.Image, *, features: int = IMAGE_FEATURES, max_side: int = FEATURE_MAX_SIDE
) -> Fingerprint:
    """The :class:`Fingerprint` of RGB (or grey) pixels: ``features`` keypoints at most, found on a
    copy whose longer side is at most ``max_side``."""
    gray = grey(pixels)
    small, scale = shrink(gray, max_side)
    keypoints, descriptors = features_of_shrunk(small, scale, features)
    return Fingerprint(phash64(small), gray.shape[1], gray.shape[0], keypoints, descriptors)


def hamming(a: int, b: int) -> int:
    """Bits in which two 64-bit hashes differ."""
    return (a ^ b).bit_count()
