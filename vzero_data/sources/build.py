"""Turn raw items into validated samples with their image bytes; every failure is a located rejection."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from vzero_core.boxes import Box, BoxError
from vzero_core.image_io import ImageDecodeError, ImageInfo, decode_image, exif_rotated, probe_image
from vzero_core.rows import Rejected
from vzero_core.sample import Sample, SampleError, image_digest, make_sample_id
from vzero_core.uris import UriError, check_remote, is_uri, redact
from vzero_data.sources.base import RawItem
from vzero_data.sources.fetch import Fetched, FetchPolicy, ImageFetcher, describe, prefetched
from vzero_data.sources.paths import PathEscapeError, join_remote, resolve_inside

# Items read ahead of the one being built, per fetch in flight (bounds fetched images in memory).
WINDOW_PER_FETCH = 4


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


class ImageUnreachable(OSError):
    """A remote image that could not be fetched; the message says why (status, error, attempts)."""


def remote_uri(item: RawItem, root: Path | str | None) -> str | None:
    """The URI of the item's image when it is remote: the image field is a URL or fsspec URI, or a
    path under a remote image root. Raises ``UriError`` for a scheme vzero does not read and
    ``PathEscapeError`` for a path leaving a remote root."""
    if item.image_bytes is not None or item.image_path is None:
        return None
    path = str(item.image_path)
    if is_uri(path):
        return check_remote(path)
    if isinstance(root, str) and is_uri(root):
        return join_remote(root, path)
    return None


def _remote_or_none(item: object, root: Path | str | None) -> str | None:
    if not isinstance(item, RawItem):
        return None
    try:
        return remote_uri(item, root)
    except (UriError, PathEscapeError):
        return None  # build_item records why


def load_image_bytes(
    item: RawItem, root: Path | str | None, fetched: Future[Fetched] | Fetched | None = None
) -> tuple[bytes, str]:
    """The item's encoded image and the sample's ``image`` reference (relative path, URL without
    credentials, or ``sha256:``). A remote image is taken from ``fetched`` (fetched here if None)."""
    if item.image_bytes is not None:
        return item.image_bytes, ""
    uri = remote_uri(item, root)
    if uri is not None:
        if fetched is None:
            fetcher = ImageFetcher()
            fetched = fetcher.fetch(uri)
        result = fetched.result() if isinstance(fetched, Future) else fetched
        if result.data is None:
            raise ImageUnreachable(describe(result))
        return result.data, redact(str(item.image_path))
    if root is None:
        raise PathEscapeError(f"image path {item.image_path!r} given but no image root")
    path = resolve_inside(Path(root), str(item.image_path))
    if path.exists() and not path.is_file():  # a FIFO would block read_bytes forever, a device too
        raise IsADirectoryError(f"{path} is not a regular file")
    return path.read_bytes(), str(item.image_path)


def clip_box_list(boxes: list[list[float]], width: int, height: int) -> tuple[list[list[float]], list[str]]:
    """Boxes clipped to the image; a box with no area left is dropped. Returns the kept boxes and
    one note per box changed or dropped (recorded in the sample's metadata)."""
    kept, notes = [], []
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        clipped = [
            min(max(x1, 0.0), width),
            min(max(y1, 0.0), height),
            min(max(x2, 0.0), width),
            min(max(y2, 0.0), height),
        ]
        if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
            notes.append(f"box {i} {[x1, y1, x2, y2]} has no area inside the {width}x{height} image: dropped")
            continue
        if clipped != [x1, y1, x2, y2]:
            notes.append(f"box {i} {[x1, y1, x2, y2]} clipped to the {width}x{height} image: {clipped}")
        kept.append(clipped)
    return kept, notes


def build_item(
    item: RawItem,
    root: Path | str | None,
    *,
    max_pixels: int,
    skip_ids: set[str] | frozenset = frozenset(),
    decode: bool = True,
    fetched: Future[Fetched] | Fetched | None = None,
) -> SourceItem | Rejected | Skipped:
    """Validate one raw item. With ``decode=False`` only the image header is read (size, format,
    pixel limit): the caller decodes the pixels once where it needs them and rejects an image whose
    data is corrupt there (``curate`` does so in its view workers). A remote image comes from
    ``fetched`` (see :func:`load_image_bytes`); one that cannot be fetched is an
    ``image_unreachable`` reject saying why."""
    where = item.where
    question = item.question
    if isinstance(question, (int, float)) and not isinstance(question, bool) and question == question:
        question = str(question)  # a question that is a number ("12345") parsed as JSON
    if not isinstance(question, str) or not question.strip():
        return Rejected(item.key, "empty_question", f"{where}: question is missing or empty")
    if item.image_bytes is None and "\x00" in str(item.image_path):
        return Rejected(item.key, "bad_field", f"{where}: image path {item.image_path!r} contains a NUL byte")
    try:
        data, ref = load_image_bytes(item, root, fetched)
    except PathEscapeError as exc:
        return Rejected(item.key, "image_outside_root", f"{where}: {exc}")
    except UriError as exc:
        return Rejected(item.key, "bad_field", f"{where}: image {exc}")
    except ImageUnreachable as exc:
        return Rejected(item.key, "image_unreachable", f"{where}: {exc}")
    except FileNotFoundError:
        return Rejected(
            item.key, "image_missing", f"{where}: image file {item.image_path!r} not found under {root}"
        )
    except OSError as exc:
        return Rejected(
            item.key, "image_unreadable", f"{where}: cannot read image {item.image_path!r} ({exc})"
        )
    sha = image_digest(data)
    question = question.strip()
    sample_id = make_sample_id(sha, question)
    if sample_id in skip_ids:
        return Skipped(sample_id)
    what = f"{where}: image {item.image_path or '<embedded>'}"
    try:
        if decode:
            img = decode_image(data, what, max_pixels=max_pixels)
            width, height, fmt = *img.size, (img.format or "png").lower()
        else:
            info = probe_image(data, what, max_pixels=max_pixels)
            width, height, fmt = info.width, info.height, info.format
    except ImageDecodeError as exc:
        reason = "image_too_large" if "exceeds the limit" in str(exc) else "image_unreadable"
        return Rejected(item.key, reason, str(exc))
    if item.declared_size is not None and tuple(item.declared_size) != (width, height):
        hint = ""
        if tuple(item.declared_size) == (height, width) and exif_rotated(data):
            hint = (
                " (its EXIF orientation rotates it for display; vzero keeps the stored pixel frame for "
                "sizes, boxes and crops, so declare the stored size and boxes in that frame)"
            )
        return Rejected(
            item.key,
            "size_mismatch",
            f"{where}: declared size {item.declared_size[0]}x{item.declared_size[1]} but the image is {width}x{height}{hint}",
        )
    metadata = dict(item.metadata)
    boxes = [list(map(float, b)) for b in item.boxes_xyxy]
    if item.clip_boxes:
        boxes, notes = clip_box_list(boxes, width, height)
        if notes:
            metadata["box_notes"] = notes
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
            boxes=tuple(Box.from_xyxy(b) for b in boxes),
            source=item.source,
            metadata=metadata,
        )
    except (SampleError, BoxError) as exc:
        return Rejected(item.key, "bad_box" if "box" in str(exc) else "bad_field", f"{where}: {exc}")
    return SourceItem(sample, data, ImageInfo(width, height, fmt), where)


def build_items(
    items: Iterable[RawItem | Rejected],
    root: Path | str | None,
    *,
    max_pixels: int,
    skip_ids: set[str] | frozenset = frozenset(),
    decode: bool = True,
    fetch: FetchPolicy | None = None,
) -> Iterator[SourceItem | Rejected | Skipped]:
    """Validate each raw item (see :func:`build_item` for ``decode``); repeats of an earlier sample
    in the same stream are rejected, and so is an id given earlier to different content
    (``duplicate_id``: which one is meant is unknown).

    A repeat is rejected whether the earlier row was built or skipped (already curated, another
    shard's): a resumed run must record the same ``duplicate_sample`` rejects as an uninterrupted one.

    Remote images are fetched ahead of the item being built, ``fetch.concurrency`` at a time
    (:mod:`vzero_data.sources.fetch`); a source without any starts no thread.
    """
    fetcher = ImageFetcher(fetch)
    window = WINDOW_PER_FETCH * fetcher.policy.concurrency
    try:
        yield from _built(
            prefetched(items, lambda i: _remote_or_none(i, root), fetcher, window),
            root,
            max_pixels=max_pixels,
            skip_ids=skip_ids,
            decode=decode,
        )
    finally:
        fetcher.close()


def _built(
    items: Iterable[tuple[RawItem | Rejected, Future[Fetched] | None]],
    root: Path | str | None,
    *,
    max_pixels: int,
    skip_ids: set[str] | frozenset,
    decode: bool,
) -> Iterator[SourceItem | Rejected | Skipped]:
    first_seen: dict[str, str] = {}
    ids: dict[str, tuple[str, str]] = {}  # source id -> (sample id, where first seen)
    for item, fetched in items:
        if isinstance(item, Rejected):
            yield item
            continue
        built = build_item(
            item, root, max_pixels=max_pixels, skip_ids=skip_ids, decode=decode, fetched=fetched
        )
        sid = built.sample.sample_id if isinstance(built, SourceItem) else getattr(built, "sample_id", None)
        if item.source_id is not None and isinstance(built, (SourceItem, Skipped)):
            seen = ids.setdefault(item.source_id, (sid, item.where))
            if seen[0] != sid:
                yield Rejected(
                    f"{item.where}",
                    "duplicate_id",
                    f"{item.where}: id {item.source_id!r} was already given to different content at "
                    f"{seen[1]} (another image or question); kept the first",
                )
                continue
        if isinstance(built, (SourceItem, Skipped)):
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
