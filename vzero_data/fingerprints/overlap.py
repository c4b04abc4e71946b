"""The curation check ``checks.benchmark_overlap``: one sample against the recipe's benchmarks.

Each worker process builds the benchmarks' pictures once (their fingerprints come from the cache the
driver filled before the run, :func:`prepare`) and checks every sample it makes: its image and its
positive crop, fingerprinted anyway for the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vzero_core.boxes import Box
from vzero_data.fingerprints.contamination import Finding, check_benchmark
from vzero_data.fingerprints.pictures import StoreCrop, StoreImage
from vzero_data.fingerprints.rows import Fingerprint
from vzero_data.fingerprints.search import Picture


@dataclass
class _Benchmarks:
    entries: list  # (BenchmarkImages, image pictures, region pictures)


_LOADED: dict[tuple[str, ...], _Benchmarks] = {}


def prepare(against: Sequence[str], *, progress: bool = False) -> _Benchmarks:
    """The benchmarks' pictures, fingerprinted through the cache (computed on first use); kept for
    this process."""
    key = tuple(against)
    if key not in _LOADED:
        from vzero_data.benchmarks.images import read_benchmark_images
        from vzero_data.fingerprints.cache import FingerprintCache
        from vzero_data.fingerprints.pictures import benchmark_pictures

        cache = FingerprintCache()
        entries = []
        for spec in against:
            bench = read_benchmark_images(spec)
            images, regions = benchmark_pictures(bench, cache, progress=progress)
            entries.append((bench, images, regions))
        _LOADED[key] = _Benchmarks(entries)
    return _LOADED[key]


def sample_overlap(
    against: Sequence[str],
    *,
    sample_id: str,
    image_sha256: str,
    image_fp: Fingerprint,
    image_gray: np.ndarray,
    crop_fp: Fingerprint,
    crop_gray: np.ndarray,
    crop_box: Box,
    max_distance: int,
    regions: bool,
) -> Finding | None:
    """The first finding of this sample in the benchmarks, or None."""
    image = Picture(
        StoreImage(image_sha256, image_fp.width, image_fp.height, (sample_id,)),
        image_fp,
        lambda: image_gray,
        image_sha256,
    )
    crop = Picture(StoreCrop("positive", sample_id, image_sha256, crop_box), crop_fp, lambda: crop_gray)
    for bench, images, targets in prepare(against).entries:
        findings = check_benchmark(
            bench, images, targets, [image], [crop], max_distance=max_distance, regions=regions
        )
        if findings:
            return findings[0]
    return None


def describe(finding: Finding) -> str:
    """The reject detail: which benchmark item, how."""
    how = {
        "exact": "same bytes",
        "phash": f"pHash {finding.distance} bits",
        "features": f"{finding.inliers} feature inliers, pixel NCC {finding.ncc:.2f}",
        "mapped": "placed through the image match",
    }[finding.method]
    where = f" at {finding.benchmark_box}" if finding.benchmark_box else ""
    return (
        f"{finding.kind}: benchmark {finding.benchmark} item {', '.join(finding.item_ids[:3])} "
        f"(image {finding.benchmark_image[:12]}{where}; {how})"
    )
