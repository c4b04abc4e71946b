"""Training prompts from a store: the full image, the question, the positive crop and one negative.

Training reads records through a small protocol (:class:`RecordLike`), which the store's
``TrainingRecord`` satisfies; answers never reach training. A record's options are part of its
question (an optional ``eval_options``): the prompt shows them as evaluation does
(:func:`vzero_core.prompt_text.sample_question`). An optional ``student_image`` replaces the full
image the student sees (the teacher keeps the clean one): the asymmetric-view family. :class:`PromptStream` turns a
re-iterable record source into an endless, reproducible stream of :class:`PromptItem`: passes over
the source are shuffled through a seeded buffer, each item picks its negative view by strategy
name (or at random among the requested ones, seeded by the item's index), and every process of a
distributed run takes its own share of each step's prompts. Its ``position`` (items consumed in the
whole run) is what a checkpoint stores; a new stream started at that position continues exactly.

Records from a store are :class:`StoredRecord`: their images are decoded when read, so the records a
resumed run skips and the other processes' shares of a batch are passed over on their raw rows, and
an item decodes its full image, its positive crop and only the negative view it uses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from vzero_core import image_io
from vzero_core.prompt_text import sample_question

logger = logging.getLogger(__name__)

RANDOM_NEGATIVE = "random"
RELATIVE_NEGATIVE = "relative"
"""``data.negative: relative``: no stored negative; the negative replay sees every teacher image
downsampled 2x (:func:`vzero_train.step.teacher_views`)."""


@runtime_checkable
class RecordLike(Protocol):
    """What training needs from a stored sample (``vzero_data.store.TrainingRecord`` has it)."""

    sample_id: str
    question: str
    image: Any
    positive: Any
    negatives: Mapping[str, Any]


RecordSource = Callable[[], Iterable[RecordLike]]
"""A zero-argument callable returning a fresh iterable of records (one pass over the data)."""


class DataError(ValueError):
    """A record that cannot become a training prompt; the message names the sample."""


@dataclass(frozen=True)
class PromptItem:
    """One training prompt. ``index`` is its position in the run's global stream: the group id.
    ``negative`` is None for the ``relative`` negative, which is computed from the other images.
    ``image`` is the full image the teacher sees; the student sees ``student_view`` when the record
    gives one (an asymmetric-view variant: a degraded full image), else the same full image."""

    index: int
    sample_id: str
    question: str
    image: Any
    positive: Any
    negative: Any
    negative_strategy: str
    student_view: Any = None

    @property
    def student_image(self) -> Any:
        """The full image as the student sees it (rollout, old log-probs, update)."""
        return self.image if self.student_view is None else self.student_view


def choose_negative(
    record: RecordLike, strategy: str, requested: Sequence[str] | None, rng: np.random.Generator
) -> tuple[str, Any]:
    """The negative view named ``strategy``, or with ``random`` one drawn among the ``requested``
    strategies the record has (all of its strategies when none are requested). Only the chosen
    view is read from ``record.negatives``."""
    available = sorted(record.negatives)
    if strategy != RANDOM_NEGATIVE:
        if strategy not in available:
            raise DataError(
                f"sample {record.sample_id}: no negative view {strategy!r} (it has: {', '.join(available) or 'none'})"
            )
        return strategy, record.negatives[strategy]
    pool = [s for s in available if requested is None or s in requested]
    if not pool:
        wanted = ", ".join(requested) if requested else "any"
        raise DataError(
            f"sample {record.sample_id}: none of the requested negative strategies ({wanted}) is stored "
            f"(it has: {', '.join(available) or 'none'})"
        )
    name = pool[int(rng.integers(len(pool)))]
    return name, record.negatives[name]


def to_prompt_item(
    record: RecordLike, index: int, *, negative: str, requested: Sequence[str] | None, seed: int
) -> PromptItem:
    """Validate a record and pick its negative view (deterministic in ``seed`` and ``index``).
    Each image is read once (a :class:`StoredRecord` decodes on reading)."""
    if not str(record.question or "").strip():
        raise DataError(f"sample {record.sample_id}: empty question")
    image, positive = record.image, record.positive
    for field, value in (("image", image), ("positive", positive)):
        if value is None:
            raise DataError(f"sample {record.sample_id}: missing {field} image")
    if negative == RELATIVE_NEGATIVE:
        name, view = RELATIVE_NEGATIVE, None
    else:
        name, view = choose_negative(record, negative, requested, np.random.default_rng([seed, index]))
    student_view = getattr(record, "student_image", None)
    return PromptItem(
        index=index,
        sample_id=record.sample_id,
        question=sample_question(record.question, getattr(record, "eval_options", None), record.sample_id),
        image=_rgb(image),
        positive=_rgb(positive),
        negative=None if view is None else _rgb(view),
        negative_strategy=name,
        student_view=None if student_view is None else _rgb(student_view),
    )


def _rgb(image: Any) -> Any:
    return image.convert("RGB") if getattr(image, "mode", "RGB") != "RGB" else image


class _DecodedOnRead(Mapping):
    """Named encoded images, each decoded when looked up (never when listed)."""

    def __init__(self, encoded: Mapping[str, bytes], where: Callable[[str], str]) -> None:
        self._encoded, self._where = encoded, where

    def __getitem__(self, name: str) -> Any:
        return image_io.decode_image(self._encoded[name], self._where(name))

    def __iter__(self) -> Iterator[str]:
        return iter(self._encoded)

    def __len__(self) -> int:
        return len(self._encoded)


class StoredRecord:
    """A store's raw training record (``vzero_data.store.records.RawRecord``) read as a
    :class:`RecordLike`: ``image``, ``positive`` and each of ``negatives`` are decoded when read,
    every time, so a record that is only passed over costs no decode."""

    def __init__(self, raw: Any, store: str) -> None:
        self.raw = raw
        self.store = store
        self.sample_id: str = raw.sample["sample_id"]
        self.question: str = raw.sample["question"]
        options = raw.sample.get("options")
        self.eval_options: tuple[str, ...] | None = tuple(options) if options is not None else None
        self.config_hash: str = raw.config_hash
        self.negatives: Mapping[str, Any] = _DecodedOnRead(
            raw.negative_bytes, lambda name: f"{store}: {name} view of {self.sample_id}"
        )

    @property
    def image(self) -> Any:
        sha = self.raw.sample["image_sha256"]
        return image_io.decode_image(self.raw.image_bytes, f"{self.store}: image {sha}")

    @property
    def positive(self) -> Any:
        return image_io.decode_image(
            self.raw.positive_bytes, f"{self.store}: positive view of {self.sample_id}"
        )


def shuffled(records: Iterable[Any], buffer_size: int, rng: np.random.Generator) -> Iterator[Any]:
    """Streaming shuffle through a buffer of ``buffer_size`` items (1 keeps the source order)."""
    buffer: list[Any] = []
    for record in records:
        buffer.append(record)
        if len(buffer) >= buffer_size:
            yield buffer.pop(int(rng.integers(len(buffer))))
    while buffer:
        yield buffer.pop(int(rng.integers(len(buffer))))


def endless_passes(source: RecordSource, seed: int, shuffle_buffer: int) -> Iterator[Any]:
    """Records of ``source`` pass after pass, each pass shuffled by a buffer seeded by (seed, pass):
    the same sequence every time, so skipping N records resumes a run exactly."""
    epoch = 0
    while True:
        rng = np.random.default_rng([seed, epoch])
        n = 0
        for record in shuffled(source(), shuffle_buffer, rng):
            n += 1
            yield record
        if n == 0:
            raise DataError("the training record source is empty")
        logger.info("finished pass %d over %d training records", epoch, n)
        epoch += 1


class PromptStream:
    """Endless prompts over repeated passes of ``source``; each call to :meth:`next_batch` consumes
    ``global_batch`` items of the global stream and returns this process's share of them."""

    def __init__(
        self,
        source: RecordSource,
        *,
        negative: str = RANDOM_NEGATIVE,
        strategies: Sequence[str] | None = None,
        seed: int = 0,
        shuffle_buffer: int = 1,
        rank: int = 0,
        world_size: int = 1,
        position: int = 0,
    ) -> None:
        if shuffle_buffer < 1:
            raise ValueError(f"shuffle_buffer must be >= 1, got {shuffle_buffer}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank {rank} outside world size {world_size}")
        self.source = source
        self.negative = negative
        self.strategies = list(strategies) if strategies else None
        self.seed = seed
        self.shuffle_buffer = shuffle_buffer
        self.rank = rank
        self.world_size = world_size
        self.position = 0
        self._records = self._passes()
        self._skip(position)

    def _passes(self) -> Iterator[RecordLike]:
        return endless_passes(self.source, self.seed, self.shuffle_buffer)

    def _skip(self, count: int) -> None:
        for _ in range(count):
            next(self._records)
            self.position += 1

    def next_batch(self, global_batch: int) -> list[PromptItem]:
        """This process's contiguous share of the next ``global_batch`` prompts."""
        if global_batch % self.world_size:
            raise ValueError(f"global batch {global_batch} is not divisible by {self.world_size} processes")
        per_rank = global_batch // self.world_size
        lo, hi = self.rank * per_rank, (self.rank + 1) * per_rank
        items = []
        for offset in range(global_batch):
            record = next(self._records)
            if lo <= offset < hi:
                items.append(
                    to_prompt_item(
                        record,
                        self.position,
                        negative=self.negative,
                        requested=self.strategies,
                        seed=self.seed,
                    )
                )
            self.position += 1
        return items
