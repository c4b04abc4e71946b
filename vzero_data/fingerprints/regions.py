"""Place one picture inside another: ORB matches, a RANSAC similarity transform, then the pixels.

Local-feature matches propose where a query picture (a crop, or a whole image) lies in a target
image; the pixels decide. The target is warped into the query's frame by the proposed transform and
the two are compared by normalised cross-correlation of their grey levels (at most 96 px, lightly
blurred), which ignores brightness and contrast changes. A proposal whose pixels disagree (a
repeated pattern, an object shared by two unrelated images) is no match. Flips and rotations beyond
``MAX_ROTATION_DEG`` are out of scope.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from vzero_core.boxes import Box
from vzero_data.fingerprints.rows import Fingerprint

RATIO = 0.8  # Lowe's ratio test on the two nearest descriptors
MIN_GOOD_MATCHES = 3
MIN_INLIERS = 3
MAX_MATCHES = 120  # the best matches by descriptor distance (pair hypotheses grow as its square)
MAX_PROPOSALS = 3
MIN_NCC = 0.85
MAX_ROTATION_DEG = 10.0
SCALE_RANGE = (0.05, 20.0)  # target pixels per query pixel
NCC_SIDE = 96
MIN_INSIDE = 0.6  # share of the query's projected box that must lie inside the target


@dataclass(frozen=True)
class Placement:
    """Where a query picture lies in a target image: ``box`` in target pixels (clipped), the
    transform (2x3, query -> target pixels), and the evidence."""

    box: Box
    transform: np.ndarray
    inliers: int
    ncc: float

    @property
    def scale(self) -> float:
        return float(math.hypot(self.transform[0, 0], self.transform[1, 0]))


_MATCHER = None


def matcher() -> cv2.BFMatcher:
    global _MATCHER
    if _MATCHER is None:
        _MATCHER = cv2.BFMatcher(cv2.NORM_HAMMING)
    return _MATCHER


def good_matches(query: np.ndarray, target: np.ndarray) -> list[tuple[int, int]]:
    """``(query index, target index)`` of descriptor matches that pass the ratio test."""
    if len(query) < 2 or len(target) < 2:
        return []
    pairs = matcher().knnMatch(query, target, k=2)
    good = [a for a, b in (p for p in pairs if len(p) == 2) if a.distance < RATIO * b.distance]
    return [(m.queryIdx, m.trainIdx) for m in sorted(good, key=lambda m: m.distance)]


def propose(query: Fingerprint, target: Fingerprint) -> list[tuple[np.ndarray, int]]:
    """Query -> target similarity transforms suggested by feature matches, most inliers first.

    Every pair of matches fixes one similarity transform (scale, rotation, shift); hypotheses are
    scored by how many matches they carry. Trying all pairs instead of random samples finds the
    right transform even when only three of thirty matches are right (a small region, a repeated
    shape); the pixels then decide between the best few.
    """
    good = good_matches(query.descriptors, target.descriptors)[:MAX_MATCHES]
    if len(good) < MIN_GOOD_MATCHES:
        return []
    src = query.keypoints[[q for q, _ in good]].astype(np.float64)
    dst = target.keypoints[[t for _, t in good]].astype(np.float64)
    z = src[:, 0] + 1j * src[:, 1]
    w = dst[:, 0] + 1j * dst[:, 1]
    i, j = np.triu_indices(len(good), 1)
    dz = z[j] - z[i]
    keep = np.abs(dz) > 4.0  # two matches too close together fix no scale
    i, j, dz = i[keep], j[keep], dz[keep]
    a = (w[j] - w[i]) / dz
    b = w[i] - a * z[i]
    scale = np.abs(a)
    angle = np.degrees(np.abs(np.angle(a)))
    ok = (scale >= SCALE_RANGE[0]) & (scale <= SCALE_RANGE[1]) & (angle <= MAX_ROTATION_DEG)
    a, b = a[ok], b[ok]
    if not len(a):
        return []
    threshold = max(3.0, 0.01 * max(target.width, target.height))
    inliers = np.abs(a[:, None] * z[None, :] + b[:, None] - w[None, :]) < threshold
    counts = inliers.sum(axis=1)
    proposals: list[tuple[np.ndarray, int]] = []
    seen: list[np.ndarray] = []
    for h in np.argsort(-counts, kind="stable"):
        if counts[h] < MIN_INLIERS or len(proposals) == MAX_PROPOSALS:
            break
        if any((inliers[h] & s).sum() >= 0.5 * counts[h] for s in seen):
            continue  # the same hypothesis again
        seen.append(inliers[h])
        fitted, _ = cv2.estimateAffinePartial2D(src[inliers[h]], dst[inliers[h]], method=cv2.LMEDS)
        transform = (
            fitted
            if fitted is not None
            else np.array([[a[h].real, -a[h].imag, b[h].real], [a[h].imag, a[h].real, b[h].imag]])
        )
        proposals.append((transform, int(counts[h])))
    return proposals


def projected_box(transform: np.ndarray, width: int, height: int) -> Box:
    """The box of a ``width x height`` picture's corners under ``transform``."""
    corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], np.float64)
    moved = corners @ transform[:, :2].T + transform[:, 2]
    return Box(*moved.min(axis=0), *moved.max(axis=0))


def pixel_agreement(query_gray: np.ndarray, target_gray: np.ndarray, transform: np.ndarray) -> float:
    """NCC of the query's grey pixels and the target's warped into the query frame (where it has any).

    Both sides are area-averaged down to at most ``NCC_SIDE`` px first (the target by the transform's
    scale), so neither aliases: a warp that samples full-resolution pixels sparsely flickers with
    sub-pixel shifts of the transform.
    """
    h, w = query_gray.shape
    s = min(1.0, NCC_SIDE / max(h, w))
    size = (max(8, round(w * s)), max(8, round(h * s)))
    small = cv2.resize(query_gray, size, interpolation=cv2.INTER_AREA)
    full = np.vstack([transform, [0, 0, 1]])
    to_small = np.diag([size[0] / w, size[1] / h, 1.0])
    shrink_by = min(1.0, (size[0] / w) / math.hypot(transform[0, 0], transform[1, 0]))
    target = target_gray
    if shrink_by < 1.0:
        th, tw = target_gray.shape
        target = cv2.resize(
            target_gray,
            (max(1, round(tw * shrink_by)), max(1, round(th * shrink_by))),
            interpolation=cv2.INTER_AREA,
        )
    from_target = np.diag(
        [target_gray.shape[1] / target.shape[1], target_gray.shape[0] / target.shape[0], 1.0]
    )
    warp = (to_small @ np.linalg.inv(full) @ from_target)[:2]  # (shrunk) target -> small query frame
    warped = cv2.warpAffine(target, warp, size, flags=cv2.INTER_LINEAR)
    valid = cv2.warpAffine(np.ones_like(target, np.uint8), warp, size, flags=cv2.INTER_NEAREST) > 0
    a = small.astype(np.float32)[valid]
    b = warped.astype(np.float32)[valid]
    if a.size < 0.5 * size[0] * size[1]:
        return 0.0
    a, b = a - a.mean(), b - b.mean()
    denom = math.sqrt(float((a * a).sum()) * float((b * b).sum()))
    return float((a * b).sum() / denom) if denom > 1e-6 else 0.0


def place(
    query: Fingerprint, query_gray: np.ndarray, target: Fingerprint, target_gray: np.ndarray
) -> Placement | None:
    """Where ``query`` lies in ``target``, if its features say where and the pixels agree."""
    frame = Box(0, 0, target.width, target.height)
    for transform, inliers in propose(query, target):
        try:
            box = projected_box(transform, query.width, query.height)
        except ValueError:  # a degenerate transform
            continue
        if box.intersection_over(frame) < MIN_INSIDE:
            continue
        ncc = pixel_agreement(query_gray, target_gray, transform)
        if ncc >= MIN_NCC:
            return Placement(box.clip(target.width, target.height), transform, inliers, ncc)
    return None
