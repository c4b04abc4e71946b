"""``EvalItem``: one benchmark question with its image, options and answer key.

Adapters turn each benchmark layout into these. Images load lazily (``load_image``) so a benchmark
of 8K images streams through evaluation a batch at a time instead of sitting in memory. Multiple-choice
answers are stored as a letter (``A`` for the first option); open questions keep the answer text.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from vzero_core.boxes import Box
from vzero_core.choices import LETTERS  # one alphabet for ingest, export and evaluation
from vzero_core.rows import Rejected, SourceError


class EvalDataError(ValueError):
    """A benchmark file, row or field that cannot be read as an evaluation item."""


@dataclass(frozen=True)
class EvalItem:
    """One question. ``answer`` is a letter for multiple choice (``options`` non-empty), else text."""

    item_id: str
    benchmark: str
    question: str
    answer: str
    load_image: Callable[[], Image.Image] = field(repr=False, compare=False)
    options: tuple[str, ...] = ()
    category: str = "all"
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)
    # Where the evidence is, for the zooming-gap evaluation: boxes (xyxy pixels of the image), or a
    # crop the benchmark ships (ZoomBench) or the store holds (its positive view).
    boxes: tuple[Box, ...] = field(default=(), compare=False)
    load_crop: Callable[[], Image.Image] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.question.strip():
            raise EvalDataError(f"{self.benchmark}/{self.item_id}: empty question")
        if len(self.options) > len(LETTERS):
            raise EvalDataError(f"{self.benchmark}/{self.item_id}: {len(self.options)} options, at most 26")
        if self.options and self.answer not in LETTERS[: len(self.options)]:
            raise EvalDataError(
                f"{self.benchmark}/{self.item_id}: answer {self.answer!r} is not one of the option letters "
                f"{', '.join(LETTERS[: len(self.options)])}"
            )

    @property
    def is_multiple_choice(self) -> bool:
        return bool(self.options)

    @property
    def answer_text(self) -> str:
        """The answer as text: the correct option's text for multiple choice."""
        return self.options[LETTERS.index(self.answer)] if self.options else self.answer


def answer_letter(answer: str, options: Sequence[str], where: str) -> str:
    """The letter of ``answer`` among ``options``: ``answer`` may be a letter or an option's text."""
    stripped = answer.strip()
    if stripped in options:
        return LETTERS[list(options).index(stripped)]
    letter = stripped.strip("()").upper()
    if len(letter) == 1 and letter in LETTERS[: len(options)]:
        return letter
    raise EvalDataError(
        f"{where}: answer {answer!r} is neither an option letter nor one of the options {list(options)}"
    )


class ImageFile:
    """A loader for an image file, checked for existence now and decoded to RGB when called (through
    :func:`vzero_core.image_io.decode_image`: the same frame and 16-bit scaling as curation);
    ``encoded()`` gives the file's bytes (what contamination checks hash)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def encoded(self) -> bytes:
        return self.path.read_bytes()

    def __call__(self) -> Image.Image:
        from vzero_core.image_io import decode_image

        return decode_image(self.encoded(), str(self.path))


class ImageBytes:
    """A loader for encoded image bytes, decoded to RGB when called; ``encoded()`` gives the bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def encoded(self) -> bytes:
        return self.data

    def __call__(self) -> Image.Image:
        from vzero_core.image_io import decode_image

        return decode_image(self.data)


def image_from_file(path: str | os.PathLike[str]) -> ImageFile:
    """A loader for an image file (see :class:`ImageFile`); a missing file is an error now."""
    path = Path(path)
    if not path.is_file():
        raise EvalDataError(f"image not found: {path}")
    return ImageFile(path)


def image_from_bytes(data: bytes) -> ImageBytes:
    """A loader for encoded image bytes, decoded to RGB when called."""
    return ImageBytes(data)


@dataclass(frozen=True)
class Skipped:
    """A benchmark entry that could not become an item, with the reason: counted and reported."""

    item_id: str
    benchmark: str
    reason: str


def items_from_rows(
    rows: Iterable[tuple[str, dict[str, Any]] | Rejected],
    benchmark: str,
    item_id: Callable[[dict[str, Any], str, int], str],
    make: Callable[[dict[str, Any], str, str], EvalItem],
) -> Iterator[EvalItem | Skipped]:
    """The items of a published table: ``make(row, item_id, where)`` for each row. A row the reader
    rejected, or one ``make`` refuses with :class:`EvalDataError`, becomes a :class:`Skipped` naming
    it; a file the reader cannot read ends the pass as an :class:`EvalDataError`."""
    try:
        for n, entry in enumerate(rows):
            if isinstance(entry, Rejected):
                yield Skipped(entry.key, benchmark, entry.detail)
                continue
            where, row = entry
            key = item_id(row, where, n)
            try:
                yield make(row, key, where)
            except EvalDataError as exc:
                yield Skipped(key, benchmark, str(exc))
    except SourceError as exc:
        raise EvalDataError(str(exc)) from exc
