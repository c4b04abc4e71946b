"""A benchmark's images for contamination checks: each distinct image once, with the items that ask
about it and their target boxes, read through the evaluation adapters (or a plain image folder).

``FORMAT:PATH`` names the format; a bare path is detected, and a folder no adapter recognises is
read as a plain image folder (every image file under it, its relative path as the item id).
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vzero_core.boxes import Box, BoxError
from vzero_core.fields import FieldError, parse_boxes
from vzero_data.benchmarks import adapters, detect_format, open_benchmark
from vzero_data.benchmarks.items import EvalDataError, EvalItem, ImageFile, Skipped

FOLDER_FORMAT = "folder"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


@dataclass
class BenchmarkImage:
    """One distinct benchmark image (by the sha256 of its bytes): the items that use it and their
    target boxes (xyxy pixels), and its bytes on demand."""

    benchmark: str
    sha256: str
    item_ids: list[str]
    targets: list[tuple[str, Box]] = field(default_factory=list)
    encoded: Callable[[], bytes] = field(default=bytes, repr=False)


@dataclass
class BenchmarkImages:
    name: str
    format: str
    src: Path
    images: list[BenchmarkImage]
    skipped: list[Skipped]
    spill: Any = field(default=None, repr=False)  # keeps the folder of spilled images alive


def split_spec(spec: str) -> tuple[str | None, Path]:
    """``FORMAT:PATH`` -> (format, path) when FORMAT is a known format; else (None, path)."""
    head, sep, tail = spec.partition(":")
    if sep and (head in adapters() or head == FOLDER_FORMAT):
        return head, Path(tail)
    return None, Path(spec)


def target_boxes(item: EvalItem) -> list[Box]:
    """An item's target boxes: its own (V*, TreeBench), else a synthetic manifest's ``bbox`` (xyxy)."""
    if item.boxes:
        return list(item.boxes)
    bbox = (item.metadata or {}).get("bbox")
    if bbox is None:
        return []
    try:
        return [Box.from_xyxy(b) for b in parse_boxes(bbox, "bbox") or []]
    except (FieldError, BoxError):
        return []


def read_benchmark_images(spec: str, spill_dir: Path | None = None) -> BenchmarkImages:
    """Every distinct image of the benchmark ``spec`` (see the module docstring). Images that come
    as bytes inside a file (base64 TSV) are written to ``spill_dir`` (a temporary folder by default)
    so they are not all held in memory."""
    fmt, path = split_spec(spec)
    if not path.exists():
        raise EvalDataError(f"benchmark source not found: {path}")
    if fmt is None:
        try:
            fmt = detect_format(path)
        except EvalDataError:
            if not path.is_dir():
                raise
            fmt = FOLDER_FORMAT
    if fmt == FOLDER_FORMAT:
        return _folder_images(path)
    bench = open_benchmark(path, fmt)
    holder = None if spill_dir else tempfile.TemporaryDirectory(prefix="vzero-bench-")
    spill = spill_dir or Path(holder.name)
    by_sha: dict[str, BenchmarkImage] = {}
    skipped: list[Skipped] = []
    for item in bench.items():
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        loader = item.load_image
        encoded = getattr(loader, "encoded", None)
        if encoded is None:
            skipped.append(Skipped(item.item_id, bench.name, "its adapter gives no encoded image bytes"))
            continue
        try:
            data = encoded()
        except OSError as exc:
            skipped.append(Skipped(item.item_id, bench.name, f"unreadable image ({exc})"))
            continue
        sha = hashlib.sha256(data).hexdigest()
        image = by_sha.get(sha)
        if image is None:
            if not isinstance(loader, ImageFile):
                spilled = spill / sha
                spilled.write_bytes(data)
                loader = ImageFile(spilled)
            image = by_sha[sha] = BenchmarkImage(bench.name, sha, [], encoded=loader.encoded)
        image.item_ids.append(item.item_id)
        image.targets += [(item.item_id, box) for box in target_boxes(item)]
    return BenchmarkImages(bench.name, fmt, path, list(by_sha.values()), skipped, holder)


def _folder_images(root: Path) -> BenchmarkImages:
    if not root.is_dir():
        raise EvalDataError(f"{root}: a plain image folder must be a folder")
    by_sha: dict[str, BenchmarkImage] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES):
        sha = hashlib.sha256(path.read_bytes()).hexdigest()
        rel = str(path.relative_to(root))
        if sha in by_sha:
            by_sha[sha].item_ids.append(rel)
        else:
            by_sha[sha] = BenchmarkImage(root.name, sha, [rel], encoded=ImageFile(path).encoded)
    if not by_sha:
        raise EvalDataError(
            f"{root}: no image files ({', '.join(IMAGE_SUFFIXES)}) and no known benchmark layout"
        )
    return BenchmarkImages(root.name, FOLDER_FORMAT, root, list(by_sha.values()), [])


def benchmark_digest(spec: str) -> str:
    """A digest of a benchmark's image content and targets (where it lives does not count): what a
    recipe's config hash records for ``checks.benchmark_overlap``."""
    bench = read_benchmark_images(spec)
    payload = sorted((img.sha256, sorted((i, b.to_list()) for i, b in img.targets)) for img in bench.images)
    return hashlib.sha256(json.dumps(payload).encode()).hexdigest()[:16]
