"""Benchmark contamination of a store, at image and at region level (``vzero-data contamination``).

Four searches, each a :func:`~.search.find_matches` between two collections of pictures:

1. stored images against benchmark images: the same bytes (``exact_bytes``), a near-duplicate pHash
   or a cropped copy covering most of the benchmark image (``near_duplicate_image``), or a training
   image that is a smaller part of a benchmark image (``training_crop_in_benchmark``);
2. benchmark images against stored images: a benchmark image that is part of a training image
   (``benchmark_region_in_training``);
3. positive crops against benchmark images (``training_crop_in_benchmark``);
4. benchmark target regions (their box with context) against stored images
   (``benchmark_region_in_training``).

An image-level match also carries its transform, so the positive crops of the matched training image
and the target boxes of the matched benchmark image are placed in the other image (``method``
``mapped``): vzero knows every crop it made, so a crop of a contaminated image is named with where
it lies in the benchmark.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from vzero_core.boxes import Box
from vzero_data.benchmarks.images import BenchmarkImages
from vzero_data.fingerprints.pictures import BenchRegion, StoreCrop, StoreImage
from vzero_data.fingerprints.search import DEFAULT_MAX_DISTANCE, Match, Picture, find_matches, region_matches

KINDS = (
    "exact_bytes",
    "near_duplicate_image",
    "training_crop_in_benchmark",
    "benchmark_region_in_training",
)
# A match covering at least this share of the other image is the same picture, cropped.
NEAR_DUPLICATE_COVERAGE = 0.8


@dataclass
class Finding:
    """One training picture found in (or containing) one benchmark picture. Boxes are xyxy pixels:
    ``benchmark_box`` in the benchmark image, ``training_box`` in the training image."""

    kind: str
    benchmark: str
    item_ids: list[str]
    benchmark_image: str
    training_image: str
    sample_ids: list[str]
    method: str
    benchmark_box: list[float] | None = None
    training_box: list[float] | None = None
    view_id: str | None = None
    distance: int | None = None
    inliers: int = 0
    ncc: float = 1.0

    def key(self) -> tuple:
        return (
            self.kind,
            self.benchmark,
            self.benchmark_image,
            self.training_image,
            self.view_id,
            tuple(self.item_ids),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ContaminationReport:
    store: str
    benchmarks: list[dict[str, Any]]
    findings: list[Finding] = field(default_factory=list)
    max_distance: int = DEFAULT_MAX_DISTANCE
    regions: bool = True
    sources: dict[str, BenchmarkImages] = field(default_factory=dict, repr=False)  # for the HTML page

    def counts(self) -> dict[str, dict[str, int]]:
        out: dict[str, Counter] = {}
        for f in self.findings:
            out.setdefault(f.benchmark, Counter())[f.kind] += 1
        return {b: {k: c[k] for k in KINDS if c[k]} for b, c in out.items()}

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "benchmarks": self.benchmarks,
            "max_distance": self.max_distance,
            "regions": self.regions,
            "counts": self.counts(),
            "findings": [f.to_dict() for f in self.findings],
        }


def _box(box: Box | None) -> list[float] | None:
    return None if box is None else [round(v, 1) for v in box.to_list()]


def image_kind(match: Match, *, training_is_query: bool) -> str:
    if match.method == "exact":
        return "exact_bytes"
    if match.method == "phash" or match.coverage >= NEAR_DUPLICATE_COVERAGE:
        return "near_duplicate_image"
    return "training_crop_in_benchmark" if training_is_query else "benchmark_region_in_training"


class _Collector:
    """Findings without repeats: the first way a relation was found is kept."""

    def __init__(self) -> None:
        self.findings: dict[tuple, Finding] = {}

    def add(self, finding: Finding) -> None:
        self.findings.setdefault(finding.key(), finding)


def check_benchmark(
    bench: BenchmarkImages,
    bench_images: Sequence[Picture],
    bench_regions: Sequence[Picture],
    store_images: Sequence[Picture],
    store_crops: Sequence[Picture],
    *,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    regions: bool = True,
    progress: bool = False,
) -> list[Finding]:
    """Every finding of one benchmark against a store's pictures (see the module docstring)."""
    found = _Collector()
    crops_by_image: dict[str, list[Picture]] = {}
    for crop in store_crops:
        crops_by_image.setdefault(crop.key.image_sha256, []).append(crop)

    def base(pi: int, sha: str, samples: Sequence[str], kind: str, method: str, **kw: Any) -> Finding:
        """A finding about the benchmark image of picture ``pi`` (an image that did not decode has none)."""
        image = bench.images[bench_images[pi].key.index]
        return Finding(kind, bench.name, list(image.item_ids), image.sha256, sha, list(samples), method, **kw)

    def mapped(match: Match, store_pic: Picture, bench_index: int, training_is_query: bool) -> None:
        """Crops of the training image placed in the benchmark image, and the benchmark's targets
        placed in the training image, through the image-level match's transform."""
        s: StoreImage = store_pic.key
        for crop in crops_by_image.get(s.sha256, []):
            c: StoreCrop = crop.key
            if training_is_query:
                where = match.to_target(c.box)
            else:
                where = match.to_query(
                    c.box, (bench_images[bench_index].fp.width, bench_images[bench_index].fp.height)
                )
            if where is not None:
                found.add(
                    base(
                        bench_index,
                        s.sha256,
                        [c.sample_id],
                        "training_crop_in_benchmark",
                        "mapped",
                        benchmark_box=_box(where),
                        training_box=_box(c.box),
                        view_id=c.view_id,
                    )
                )
        for item_id, target in bench.images[bench_images[bench_index].key.index].targets:
            if training_is_query:
                where = match.to_query(target, (store_pic.fp.width, store_pic.fp.height))
            else:
                where = match.to_target(target)
            if where is not None:
                finding = base(
                    bench_index,
                    s.sha256,
                    s.sample_ids,
                    "benchmark_region_in_training",
                    "mapped",
                    benchmark_box=_box(target),
                    training_box=_box(where),
                )
                finding.item_ids = [item_id]
                found.add(finding)

    # 1. training images in benchmark images
    image_matches = find_matches(
        store_images, bench_images, max_distance=max_distance, regions=regions, progress=progress
    )
    known = set()
    for m in image_matches:
        s: StoreImage = store_images[m.query].key
        known.add((m.target, m.query))
        found.add(
            base(
                m.target,
                s.sha256,
                s.sample_ids,
                image_kind(m, training_is_query=True),
                m.method,
                benchmark_box=_box(m.box),
                distance=m.distance,
                inliers=m.inliers,
                ncc=round(m.ncc, 3),
            )
        )
        mapped(m, store_images[m.query], m.target, True)
    if not regions:
        return list(found.findings.values())
    # 2. benchmark images in training images
    for m in region_matches(bench_images, store_images, {k: None for k in known}, progress=progress):
        s = store_images[m.target].key
        found.add(
            base(
                m.query,
                s.sha256,
                s.sample_ids,
                image_kind(m, training_is_query=False),
                m.method,
                training_box=_box(m.box),
                inliers=m.inliers,
                ncc=round(m.ncc, 3),
            )
        )
        mapped(m, store_images[m.target], m.query, False)
    # 3. positive crops in benchmark images
    for m in region_matches(store_crops, bench_images, {}, progress=progress):
        c: StoreCrop = store_crops[m.query].key
        found.add(
            base(
                m.target,
                c.image_sha256,
                [c.sample_id],
                "training_crop_in_benchmark",
                m.method,
                benchmark_box=_box(m.box),
                training_box=_box(c.box),
                view_id=c.view_id,
                inliers=m.inliers,
                ncc=round(m.ncc, 3),
            )
        )
    # 4. benchmark target regions in training images (the target itself placed, not its context)
    picture_of = {p.key.index: i for i, p in enumerate(bench_images)}
    for m in region_matches(bench_regions, store_images, {}, progress=progress):
        r: BenchRegion = bench_regions[m.query].key
        s = store_images[m.target].key
        target = m.to_target(r.target.translate(-r.window.x1, -r.window.y1)) or m.box
        finding = base(
            picture_of[r.index],
            s.sha256,
            s.sample_ids,
            "benchmark_region_in_training",
            m.method,
            benchmark_box=_box(r.target),
            training_box=_box(target),
            inliers=m.inliers,
            ncc=round(m.ncc, 3),
        )
        finding.item_ids = [r.item_id]
        found.add(finding)
    return list(found.findings.values())


def contamination(
    store,
    specs: Sequence[str],
    *,
    max_distance: int = DEFAULT_MAX_DISTANCE,
    regions: bool = True,
    cache=None,
    progress: bool = False,
) -> ContaminationReport:
    """Check the store against every benchmark in ``specs`` (``[FORMAT:]PATH``)."""
    from vzero_data.benchmarks.images import read_benchmark_images
    from vzero_data.fingerprints.cache import FingerprintCache
    from vzero_data.fingerprints.pictures import benchmark_pictures, store_pictures

    cache = cache or FingerprintCache()
    store_images, store_crops = store_pictures(store, exclude=store.removed_sample_ids())
    report = ContaminationReport(str(store.root), [], max_distance=max_distance, regions=regions)
    for spec in specs:
        bench = read_benchmark_images(spec)
        images, targets = benchmark_pictures(bench, cache, progress=progress)
        report.benchmarks.append(
            {
                "name": bench.name,
                "format": bench.format,
                "src": str(bench.src),
                "images": len(bench.images),
                "target_regions": len(targets),
                "skipped": [asdict(s) for s in bench.skipped],
            }
        )
        report.findings += check_benchmark(
            bench,
            images,
            targets,
            store_images,
            store_crops,
            max_distance=max_distance,
            regions=regions,
            progress=progress,
        )
        report.sources[bench.name] = bench
    report.findings.sort(
        key=lambda f: (f.benchmark, KINDS.index(f.kind), f.item_ids, f.training_image, f.view_id or "")
    )
    return report
