"""Turn raw items into validated samples with their image bytes; every failure is a located rejection."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vzero_data.boxes import Box, BoxError
from vzero_data.image_io import ImageDecodeError, ImageInfo, decode_image
from vzero_data.sample import Sample, SampleError, image_digest, make_sample_id
from vzero_data.sources.base import RawItem, Rejected
from vzero_data.sources.paths import PathEscapeError, resolve_inside


@dataclass(frozen=True)
class SourceItem:
    """A sample ready to store, with its encoded image."""

    sample: Sample
    image_bytes: bytes
    image: ImageInfo
    where: str


@dataclass(frozen=True)
class Skipped:
    """A sample that is already done (resume)."""

    sample_id: str


def load_image_bytes(item: RawItem, root: Path | None) -> tuple[bytes, str]:
    """The item's encoded image and the sample's ``image`` reference (relative path or ``sha256:``)."""
    if item.image_bytes is not None:
        return item.image_bytes, ""
    if root is None:
        raise PathEscapeError(f"image path {item.image_path!r} given but no image root")
    path = resolve_inside(root, str(item.image_path))
    return path.read_bytes(), str(item.image_path)


def build_item(
    item: RawItem, root: Path | None, *, max_pixels: int, skip_ids: set[str] | frozenset = frozenset()
) -> SourceItem | Rejected | Skipped:
    where = item.where
    if not isinstance(item.question, str) or not item.question.strip():
        return Rejected(item.key, "empty_question", f"{where}: question is missing or empty")
    try:
        data, ref = load_image_bytes(item, root)
    except PathEscapeError as exc:
        return Rejected(item.key, "image_outside_root", f"{where}: {exc}")
    except FileNotFoundError:
        return Rejected(
            item.key, "image_missing", f"{where}: image file {item.image_path!r} not found under {root}"
        )
    except OSError as exc:
        return Rejected(
            item.key, "image_unreadable", f"{where}: cannot read image {item.image_path!r} ({exc})"
        )
    sha = image_digest(data)
    question = item.question.strip()
    sample_id = make_sample_id(sha, question)
    if sample_id in skip_ids:
        return Skipped(sample_id)
    try:
        img = decode_image(data, f"{where}: image {item.image_path or '<embedded>'}", max_pixels=max_pixels)
    except ImageDecodeError as exc:
        reason = "image_too_large" if "exceeds the limit" in str(exc) else "image_unreadable"
        return Rejected(item.key, reason, str(exc))
    width, height = img.size
    fmt = (img.format or "png").lower()
    if item.declared_size is not None and tuple(item.declared_size) != (width, height):
        return Rejected(
            item.key,
            "size_mismatch",
            f"{where}: declared size {item.declared_size[0]}x{item.declared_size[1]} but the image is {width}x{height}",
        )
    metadata = dict(item.metadata)
    if item.source_id is not None:
        metadata["source_id"] = item.source_id
    try:
        sample = Sample(
            sample_id=sample_id,
            image=ref or f"sha256:{sha}",
            image_sha256=sha,
            width=width,
            height=height,
            question=question,
            answer=item.answer,
            options=tuple(item.options) if item.options is not None else None,
            target=item.target,
            boxes=tuple(Box.from_xyxy(b) for b in item.boxes_xyxy),
            source=item.source,
            metadata=metadata,
        )
    except (SampleError, BoxError) as exc:
        return Rejected(item.key, "bad_box" if "box" in str(exc) else "bad_field", f"{where}: {exc}")
    return SourceItem(sample, data, ImageInfo(width, height, fmt), where)


def build_items(
    items: Iterable[RawItem | Rejected],
    root: Path | None,
    *,
    max_pixels: int,
    skip_ids: set[str] | frozenset = frozenset(),
) -> Iterator[SourceItem | Rejected | Skipped]:
    """Validate each raw item; repeats of an earlier sample in the same stream are rejected.

    A repeat is rejected whether the earlier row was built or skipped (already curated, another
    shard's): a resumed run must record the same ``duplicate_sample`` rejects as an uninterrupted one.
    """
    first_seen: dict[str, str] = {}
    for item in items:
        if isinstance(item, Rejected):
            yield item
            continue
        built = build_item(item, root, max_pixels=max_pixels, skip_ids=skip_ids)
        if isinstance(built, (SourceItem, Skipped)):
            sid = built.sample.sample_id if isinstance(built, SourceItem) else built.sample_id
            if sid in first_seen:
                yield Rejected(
                    item.key,
                    "duplicate_sample",
                    f"{item.where}: same image and question as {first_seen[sid]} (sample {sid})",
                    sample_id=sid,
                )
                continue
            first_seen[sid] = item.where
        yield built
