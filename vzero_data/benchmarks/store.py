"""A vzero store, read through ``open_store``: its ``samples`` and ``images``. A URI names a store
published by ``vzero-data sync`` (``s3://bucket/store``).

Samples with options are multiple choice (the stored answer is an option's text or letter), others
open. Options are shown in an order fixed per sample (seeded by the sample id), not in stored order:
an ingested V* store keeps the correct option first, so stored order would give the answer away. The category is ``metadata.category``, else ``metadata.kind``, else the sample's ``source``.
Samples without an answer label are skipped and reported. A sample curated under several configs is
one item. Images are fetched a chunk of samples at a time, so only a chunk's images are in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from vzero_core.choices import answer_index, shuffled
from vzero_data.benchmarks import register_adapter
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped, image_from_bytes

CHUNK = 64
PROTOCOL = "store: options in an order fixed per sample (seeded by its id), not the stored order"
COLUMNS = ("sample_id", "image_sha256", "question", "answer", "options", "metadata", "source")


def _detect(src: Path) -> bool:
    from vzero_data.store import is_store

    return src.is_dir() and is_store(src)


@register_adapter("store", detect=_detect, description="vzero store (its samples and images)")
def read_store(
    src: Path | str, *, benchmark: str, image_root: Path | None = None
) -> Iterator[EvalItem | Skipped]:
    from vzero_data.store import StoreError, open_store

    try:
        store = open_store(src)
    except StoreError as exc:
        raise EvalDataError(str(exc)) from exc
    samples = store.query(
        f"SELECT DISTINCT ON (sample_id) {', '.join(COLUMNS)} FROM samples ORDER BY sample_id"
    )
    for batch in samples.to_batches(max_chunksize=CHUNK):
        rows = [tuple(r[c] for c in COLUMNS) for r in batch.to_pylist()]
        found = store.image_bytes(sorted({r[1] for r in rows if r[1]}))
        crops = _positive_views(store, [r[0] for r in rows])
        for row in rows:
            try:
                item = _item(row, found, benchmark, f"{src} sample {row[0]!r}")
                if row[0] in crops:
                    item = replace(item, load_crop=image_from_bytes(crops[row[0]]))
                yield item
            except EvalDataError as exc:
                yield Skipped(str(row[0]), benchmark, str(exc))


def _positive_views(store: Any, sample_ids: list[str]) -> dict[str, bytes]:
    """Each sample's first valid positive view (encoded), for the zooming-gap evaluation."""
    table = store.query(
        "SELECT sample_id, image_bytes FROM views WHERE valid AND kind = 'positive' "
        "AND list_contains(?, sample_id) ORDER BY sample_id, view_id",
        [sample_ids],
    )
    out: dict[str, bytes] = {}
    for sid, data in zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True):
        out.setdefault(sid, data)
    return out


def _item(row: tuple[Any, ...], images: dict[str, bytes], benchmark: str, where: str) -> EvalItem:
    sample_id, sha, question, answer, options, metadata, source = row
    if answer is None or str(answer).strip() == "":
        raise EvalDataError(f"{where}: no answer label")
    if sha not in images:
        raise EvalDataError(f"{where}: image {sha} not in the images table")
    try:
        meta = json.loads(metadata) if metadata else {}
    except json.JSONDecodeError as exc:
        raise EvalDataError(f"{where}: metadata is not JSON ({exc.msg})") from exc
    stored = [str(o) for o in options or ()]
    meta = meta if isinstance(meta, dict) else {}
    shown, letter = (), str(answer)
    if stored:
        at = answer_index(str(answer), stored)
        if at is None:
            raise EvalDataError(
                f"{where}: answer {answer!r} is neither an option letter nor one of the options {stored}"
            )
        shown, letter = shuffled(stored, at, str(sample_id))
    return EvalItem(
        item_id=str(sample_id),
        benchmark=benchmark,
        question=str(question or ""),
        answer=str(letter),
        options=shown,
        load_image=image_from_bytes(images[sha]),
        category=str(meta.get("category") or meta.get("kind") or source or "all"),
        metadata={"source": source, "protocol": PROTOCOL if stored else "store: open question"},
    )
