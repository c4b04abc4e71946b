"""Matches between two collections of pictures: exact bytes, near pHashes, one picture inside another.

Exact matches compare content hashes; near-duplicates come from the pHash index
(:mod:`.phash_index`), never from all pairs. Region matches (one picture inside another, at any
position and scale) start from local features: each query descriptor votes for the target holding
its nearest descriptors, the few targets with most votes are proposed, and :func:`.regions.place`
accepts a proposal only when the transform's pixels agree. This stage compares every query
descriptor with every target descriptor (OpenCV's brute-force matcher), so its cost grows with both
collections: ``regions=False`` leaves it out (``benchmarks/near_duplicates.py`` measures both).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from vzero_core.boxes import Box
from vzero_data.fingerprints.phash_index import near_pairs
from vzero_data.fingerprints.regions import place
from vzero_data.fingerprints.rows import Fingerprint

DEFAULT_MAX_DISTANCE = 10  # pHash bits; measured: copies 0-6, unrelated pictures 16 and more
VOTE_DISTANCE = 64
MIN_VOTES = 2
CANDIDATES_PER_QUERY = 5


@dataclass
class Picture:
    """One picture to match: an identity for the caller, its fingerprint, its grey pixels on demand
    (only region proposals need them), and the hash of its encoded bytes when it has them."""

    key: object
    fp: Fingerprint
    load_gray: Callable[[], np.ndarray]
    sha256: str | None = None


@dataclass(frozen=True)
class Match:
    """``queries[query]`` found in ``targets[target]``: ``box`` is where it lies (target pixels),
    ``coverage`` the share of the target that box covers; ``method`` is ``exact``, ``phash`` or
    ``features`` (with the RANSAC inliers and the pixel correlation)."""

    query: int
    target: int
    method: str
    box: Box
    coverage: float
    distance: int | None = None
    inliers: int = 0
    ncc: float = 1.0
    transform: np.ndarray | None = None

    def to_target(self, box: Box) -> Box | None:
        """``box`` (query pixels) in target pixels, or None if it falls outside the target."""
        return _inside(_moved(box, self.transform), self.box)

    def to_query(self, box: Box, query_size: tuple[int, int]) -> Box | None:
        """``box`` (target pixels) in query pixels, or None if it falls outside the query."""
        return _inside(_moved(box, cv2.invertAffineTransform(self.transform)), Box(0, 0, *query_size))


def _moved(box: Box, transform: np.ndarray) -> Box:
    corners = np.array([[box.x1, box.y1], [box.x2, box.y1], [box.x1, box.y2], [box.x2, box.y2]], np.float64)
    corners = corners @ transform[:, :2].T + transform[:, 2]
    (x1, y1), (x2, y2) = corners.min(axis=0), corners.max(axis=0)
    return Box(x1, y1, x2, y2)


def _inside(box: Box, frame: Box, min_share: float = 0.6) -> Box | None:
    if box.intersection_over(frame) < min_share:
        return None
    return Box(max(box.x1, frame.x1), max(box.y1, frame.y1), min(box.x2, frame.x2), min(box.y2, frame.y2))


def scale_transform(query: Fingerprint, target: Fingerprint) -> np.ndarray:
    """The transform of a whole-picture match: one picture resized onto the other."""
    return np.array(
        [[target.width / query.width, 0.0, 0.0], [0.0, target.height / query.height, 0.0]], np.float64
    )


class GreyCache:
    """Grey pixels of recently used pictures (a region proposal may need the same target again)."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._items: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()

    def get(self, side: int, index: int, picture: Picture) -> np.ndarray:
        key = (side, index)
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        gray = picture.load_gray()
        self._items[key] = gray
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return gray


def whole_match(
    queries: Sequence[Picture],
    targets: Sequence[Picture],
    qi: int,
    ti: int,
    method: str,
    distance: int | None,
) -> Match:
    q, t = queries[qi].fp, targets[ti].fp
    return Match(qi, ti, method, Box(0, 0, t.width, t.height), 1.0, distance, transform=scale_transform(q, t))


def find_matches(
    queries: Sequence[Picture],
    targets: Sequence[Picture],
    *,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    regions: bool = True,
    same_set: bool = False,
    progress: bool = False,
) -> list[Match]:
    """Every query found in a target (see the module docstring). With ``same_set`` (``targets`` is
    ``queries``) a picture is never matched with itself and each pair is reported once."""
    matches: dict[tuple[int, int], Match] = {}
    by_sha: dict[str, list[int]] = {}
    for ti, t in enumerate(targets):
        if t.sha256:
            by_sha.setdefault(t.sha256, []).append(ti)
    for qi, q in enumerate(queries):
        for ti in by_sha.get(q.sha256 or "", []):
            if not same_set or qi < ti:
                matches[(qi, ti)] = whole_match(queries, targets, qi, ti, "exact", 0)
    hashes = [q.fp.phash for q in queries]
    for qi, ti, d in near_pairs(
        hashes, hashes if same_set else [t.fp.phash for t in targets], max_distance, same_set=same_set
    ):
        matches.setdefault((qi, ti), whole_match(queries, targets, qi, ti, "phash", d))
    if regions:
        for match in region_matches(queries, targets, matches, same_set=same_set, progress=progress):
            matches[(match.query, match.target)] = match
    return sorted(matches.values(), key=lambda m: (m.query, m.target))


def region_matches(
    queries: Sequence[Picture],
    targets: Sequence[Picture],
    known: dict[tuple[int, int], Match],
    *,
    same_set: bool = False,
    progress: bool = False,
) -> list[Match]:
    """Matches of one picture inside another, for pairs not already in ``known``."""
    from vzero_core.progress import progress_bar

    usable = [ti for ti, t in enumerate(targets) if len(t.fp.descriptors)]
    if not usable:
        return []
    bf = cv2.BFMatcher(cv2.NORM_HAMMING)
    bf.add([targets[ti].fp.descriptors for ti in usable])
    bf.train()
    cache = GreyCache()
    found = []
    tried = set(known)
    k = 3 if same_set else 2  # the nearest descriptor of a picture matched with itself is its own
    for qi in progress_bar(range(len(queries)), desc="region search", unit="picture", enabled=progress):
        q = queries[qi]
        if len(q.fp.descriptors) < 2:
            continue
        votes: Counter[int] = Counter()
        for neighbours in bf.knnMatch(q.fp.descriptors, k=k):
            hit = {usable[m.imgIdx] for m in neighbours if m.distance <= VOTE_DISTANCE}
            votes.update(hit - {qi} if same_set else hit)
        for ti, n in votes.most_common(CANDIDATES_PER_QUERY):
            pair = (min(qi, ti), max(qi, ti)) if same_set else (qi, ti)
            if n < MIN_VOTES or pair in tried:
                continue
            tried.add(pair)
            try:
                placement = place(q.fp, cache.get(0, qi, q), targets[ti].fp, cache.get(1, ti, targets[ti]))
            except ValueError:  # pixels that no longer decode (`vzero-data verify` reports them)
                continue
            if placement is None:
                continue
            t = targets[ti].fp
            found.append(
                Match(
                    qi,
                    ti,
                    "features",
                    placement.box,
                    placement.box.area / float(t.width * t.height),
                    inliers=placement.inliers,
                    ncc=placement.ncc,
                    transform=placement.transform,
                )
            )
    return found
