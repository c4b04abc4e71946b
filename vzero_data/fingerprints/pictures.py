"""The pictures the matchers compare: a store's images and positive crops, a benchmark's images and
target regions, each with its fingerprint and its grey pixels on demand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vzero_core.boxes import Box
from vzero_data.benchmarks.images import BenchmarkImages
from vzero_data.benchmarks.items import Skipped
from vzero_data.fingerprints.cache import FingerprintCache
from vzero_data.fingerprints.compute import (
    BENCHMARK_FEATURES,
    BENCHMARK_MAX_SIDE,
    CROP_FEATURES,
    fingerprint,
    grey,
)
from vzero_data.fingerprints.rows import FINGERPRINT_ALGORITHM, fingerprint_from_row
from vzero_data.fingerprints.search import Picture

# A benchmark target region is matched with context: its box grown to twice its sides, and to at
# least this many pixels, as a positive crop would be.
REGION_MARGIN_RATIO = 1.0
REGION_MIN_SIDE = 96


class MissingFingerprints(ValueError):
    """A store whose images (or crops) have no fingerprint yet: ``vzero-data fingerprint`` adds them."""


@dataclass(frozen=True)
class StoreImage:
    sha256: str
    width: int
    height: int
    sample_ids: tuple[str, ...]


@dataclass(frozen=True)
class StoreCrop:
    view_id: str
    sample_id: str
    image_sha256: str
    box: Box  # window in the source image


@dataclass(frozen=True)
class BenchImage:
    index: int


@dataclass(frozen=True)
class BenchRegion:
    index: int  # of the benchmark image
    item_id: str
    target: Box
    window: Box  # the region matched: the target with context, in benchmark pixels


def decode_grey(data: bytes, where: str) -> np.ndarray:
    from vzero_data.views.encoding import decode_rgb

    return grey(decode_rgb(data, where))


def store_pictures(store, *, exclude: set[str] | None = None) -> tuple[list[Picture], list[Picture]]:
    """The store's images and positive crops as pictures (keys :class:`StoreImage`, :class:`StoreCrop`);
    samples in ``exclude`` are left out. Raises :class:`MissingFingerprints` naming how many lack one."""
    exclude = exclude or set()
    samples = store.query(
        "SELECT image_sha256, list(DISTINCT sample_id ORDER BY sample_id) AS ids FROM samples GROUP BY 1"
    ).to_pylist()
    by_image = {r["image_sha256"]: tuple(i for i in r["ids"] if i not in exclude) for r in samples}
    rows = store.query(
        "SELECT i.sha256, i.width, i.height, f.phash, f.width AS fw, f.height AS fh, f.keypoints, f.descriptors "
        "FROM images i LEFT JOIN (SELECT * FROM fingerprints WHERE subject = 'image' AND algorithm = ?) f "
        "ON f.subject_id = i.sha256 ORDER BY i.sha256",
        [FINGERPRINT_ALGORITHM],
    ).to_pylist()
    missing = sum(1 for r in rows if r["phash"] is None)
    crop_rows = store.query(
        "SELECT v.view_id, v.sample_id, f.image_sha256 AS sha, v.box, f.phash, f.width, f.height, "
        "f.keypoints, f.descriptors FROM views v LEFT JOIN "
        "(SELECT * FROM fingerprints WHERE subject = 'view' AND algorithm = ?) f ON f.subject_id = v.view_id "
        "WHERE v.kind = 'positive' AND v.valid ORDER BY v.view_id",
        [FINGERPRINT_ALGORITHM],
    ).to_pylist()
    missing_crops = sum(1 for r in crop_rows if r["phash"] is None)
    if missing or missing_crops:
        raise MissingFingerprints(
            f"{store.root}: {missing} of {len(rows)} stored images and {missing_crops} of {len(crop_rows)} "
            f"positive crops have no fingerprint (a store curated before fingerprints); run "
            f"`vzero-data fingerprint {store.root}` first"
        )

    def image_loader(sha: str):
        return lambda: decode_grey(store.image_bytes([sha])[sha], f"{store.root}: image {sha}")

    def view_loader(view_id: str):
        def load() -> np.ndarray:
            data = store.query("SELECT image_bytes FROM views WHERE view_id = ? LIMIT 1", [view_id])
            return decode_grey(data.column(0)[0].as_py(), f"{store.root}: view {view_id}")

        return load

    images = [
        Picture(
            StoreImage(r["sha256"], r["width"], r["height"], by_image.get(r["sha256"], ())),
            fingerprint_from_row({**r, "width": r["fw"], "height": r["fh"]}),
            image_loader(r["sha256"]),
            r["sha256"],
        )
        for r in rows
        if by_image.get(r["sha256"])
    ]
    crops = [
        Picture(
            StoreCrop(r["view_id"], r["sample_id"], r["sha"], Box.from_xyxy(r["box"])),
            fingerprint_from_row(r),
            view_loader(r["view_id"]),
        )
        for r in crop_rows
        if r["sample_id"] not in exclude and r["box"] is not None
    ]
    return images, crops


def region_window(target: Box, width: int, height: int) -> Box | None:
    """The benchmark region matched for a target box: the box with context, inside the image."""
    from vzero_data.views.crop_policy import CropPolicy, crop_box

    try:
        inside = target.clip(width, height)
    except ValueError:
        return None
    policy = CropPolicy(margin_ratio=REGION_MARGIN_RATIO, min_side=REGION_MIN_SIDE)
    return crop_box(inside, width, height, policy)


def benchmark_pictures(
    bench: BenchmarkImages, cache: FingerprintCache, *, progress: bool = False
) -> tuple[list[Picture], list[Picture]]:
    """The benchmark's images and target regions as pictures (keys :class:`BenchImage`,
    :class:`BenchRegion`), fingerprinted through ``cache``."""
    from vzero_core.progress import progress_bar

    images: list[Picture] = []
    regions: list[Picture] = []
    for index, image in enumerate(
        progress_bar(bench.images, desc=f"fingerprint {bench.name}", unit="image", enabled=progress)
    ):
        where = f"{bench.src}: {image.item_ids[0]}"
        decoded: dict[str, np.ndarray] = {}

        def rgb(image=image, where=where, decoded=decoded) -> np.ndarray:
            if "rgb" not in decoded:
                from vzero_data.views.encoding import decode_rgb

                decoded["rgb"] = decode_rgb(image.encoded(), where)
            return decoded["rgb"]

        try:
            fp = cache.get(
                f"{image.sha256}|image|{BENCHMARK_FEATURES}|{BENCHMARK_MAX_SIDE}",
                lambda rgb=rgb: fingerprint(rgb(), features=BENCHMARK_FEATURES, max_side=BENCHMARK_MAX_SIDE),
            )
        except ValueError as exc:  # an image that does not decode: reported, never a crash
            bench.skipped += [
                Skipped(item, bench.name, f"image does not decode ({exc})") for item in image.item_ids
            ]
            continue
        images.append(
            Picture(
                BenchImage(index),
                fp,
                lambda image=image, where=where: decode_grey(image.encoded(), where),
                image.sha256,
            )
        )
        for item_id, target in image.targets:
            window = region_window(target, fp.width, fp.height)
            if window is None:
                continue
            x1, y1, x2, y2 = (int(v) for v in window.to_list())

            def crop(rgb=rgb, x1=x1, y1=y1, x2=x2, y2=y2) -> np.ndarray:
                return rgb()[y1:y2, x1:x2]

            region_fp = cache.get(
                f"{image.sha256}|region|{x1},{y1},{x2},{y2}|{CROP_FEATURES}",
                lambda crop=crop: fingerprint(crop(), features=CROP_FEATURES),
            )
            regions.append(
                Picture(
                    BenchRegion(index, item_id, target, window),
                    region_fp,
                    lambda image=image, where=where, b=(x1, y1, x2, y2): decode_grey(image.encoded(), where)[
                        b[1] : b[3], b[0] : b[2]
                    ],
                )
            )
        decoded.clear()
    return images, regions
