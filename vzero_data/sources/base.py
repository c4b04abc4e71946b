"""What every source adapter produces: raw items (one question each) or located rejections.

Adapters only parse their format; :mod:`vzero_data.sources.build` turns a :class:`RawItem` into a
validated :class:`~vzero_core.sample.Sample` plus its image bytes, so checks live in one place.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from vzero_core.image_io import DEFAULT_MAX_PIXELS
from vzero_core.rows import Rejected, SourceError
from vzero_core.uris import is_uri


@dataclass(frozen=True)
class RawItem:
    """One question as an adapter read it; boxes already converted to ``xyxy`` pixels."""

    where: str  # "file:line" or "file row N": names the origin in every message
    question: Any
    image_path: str | None = None  # relative to the image root, or a URL / fsspec URI
    image_bytes: bytes | None = None
    answer: Any = None
    options: list[str] | None = None
    target: str | None = None
    boxes_xyxy: list[list[float]] = field(default_factory=list)
    source: str = ""
    source_id: str | None = None
    declared_size: tuple[int, int] | None = None  # (width, height) the source claims
    clip_boxes: bool = False  # clip boxes to the image, dropping empty ones with a note (not reject)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """What a rejection of this item is recorded under."""
        return self.source_id or self.where


@dataclass(frozen=True)
class SourceOptions:
    """Options shared by adapters; each adapter uses the ones that apply to it."""

    image_root: Path | str | None = None  # a folder, or a remote one (``s3://bucket/pool``)
    split: str | None = None
    max_pixels: int = DEFAULT_MAX_PIXELS
    field_map: Mapping[str, str] = field(default_factory=dict)  # our field name -> the source's column
    question_template: str | None = None
    include_crowd: bool = False  # coco: keep iscrowd=1 annotations as boxes


class Source(Protocol):
    """A source adapter: a name, a one-line description, and a reader of raw items."""

    name: str
    description: str

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]: ...


def default_root(src: str, options: SourceOptions, source: object | None = None) -> Path | str:
    """The image root: ``--image-root`` if given (a remote one stays a URI string), else where
    ``source`` says its layout keeps the images (an adapter's optional ``image_root_for(src)``), else
    the folder holding ``src`` (or ``src`` itself)."""
    if options.image_root is not None:
        return options.image_root if is_uri(options.image_root) else Path(options.image_root)
    finder = getattr(source, "image_root_for", None)
    if finder is not None:
        return finder(src)
    path = Path(src)
    return path if path.is_dir() else path.parent


def require_path(src: str, *, want_dir: bool | None = None) -> Path:
    path = Path(src)
    if not path.exists():
        raise SourceError(f"{src}: no such file or directory")
    if want_dir is True and not path.is_dir():
        raise SourceError(f"{src}: expected a directory")
    if want_dir is False and not path.is_file():
        raise SourceError(f"{src}: expected a file")
    return path
