"""The source stage: the recipe's adapter's raw rows, built into samples (headers read, nothing decoded)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from vzero_data.pipeline.recipe import Recipe
from vzero_data.pipeline.sharding import ShardSpec


class SkipIds:
    """Sample ids the source need not build (decode): already curated, or owned by another shard.

    Passed as ``skip_ids`` to :func:`vzero_data.sources.build_items`, which checks membership after
    hashing an image and before decoding it, so skipped samples cost a read and a hash only.
    """

    def __init__(self, done: set[str], shard: ShardSpec) -> None:
        self.done = done
        self.shard = shard

    def __contains__(self, sample_id: object) -> bool:
        return sample_id in self.done or not self.shard.owns(str(sample_id))


def source_options(recipe: Recipe) -> Any:
    """The adapter options the recipe's ``source`` section gives."""
    from vzero_core.uris import is_uri
    from vzero_data.sources import SourceOptions

    cfg = recipe.source
    root = cfg.image_root
    return SourceOptions(
        image_root=(root if is_uri(root) else Path(root)) if root else None,
        split=cfg.split,
        max_pixels=cfg.max_pixels,
        field_map=dict(cfg.field_map),
        question_template=cfg.question_template,
    )


def open_source(recipe: Recipe, limit: int | None = None) -> Iterator[Any]:
    """The recipe's source adapter's raw rows; a missing or malformed source raises ``SourceError``
    here, before any work. ``limit`` counts raw rows, so ``--limit N`` always means the first N rows
    whatever the shard or what is already done."""
    from itertools import islice

    from vzero_data.sources import get_source

    raw = get_source(recipe.source.adapter).read(recipe.source.path, source_options(recipe))
    return islice(raw, limit) if limit is not None else raw


def build_source_items(recipe: Recipe, raw: Iterable[Any], skip: SkipIds | None = None) -> Iterator[Any]:
    """Raw rows to ``SourceItem | Rejected | Skipped`` (see :mod:`vzero_data.sources`).

    Only image headers are read here (size, format, pixel limit): each image is decoded once, by the
    view worker that needs its pixels, which also rejects corrupt data (:func:`decode_source`).
    Remote images are fetched here, ahead of the stream, as ``execution.fetch`` says.
    """
    from vzero_data.sources import build_items, get_source
    from vzero_data.sources.base import default_root

    root = default_root(recipe.source.path, source_options(recipe), get_source(recipe.source.adapter))
    return build_items(
        raw,
        root,
        max_pixels=recipe.source.max_pixels,
        skip_ids=skip or frozenset(),
        decode=False,
        fetch=recipe.execution.fetch,
    )
