"""Compaction: merge many small published batches into fewer, larger ones, with a crash-safe swap.

Every run adds batches (its samples, and two ``runs`` rows, each a batch of its own), so a store
resumed many times holds hundreds of small folders, and every query pays for listing and opening
them. :func:`compact` merges runs of consecutive batches into batches of about ``max_bytes``.

The swap, for each group of batches:

1. the merged batch is written to staging and fsynced, with ``compacted_from.json`` naming its
   sources, then published by one rename. Its name is the first source's name plus a suffix, so it
   sorts where the group was: readers that take "the first row written" keep getting the same row;
2. each source is renamed out of ``shards/`` (one atomic rename each) and deleted.

Between 1 and 2 a source's rows are visible twice; a crash there is completed by
:func:`finish_compactions`, which ``open_store`` runs (roll forward: the merged batch holds every
row, so removing its remaining sources is always right). A crash before 1 leaves only a staging
directory, cleaned like any writer's. One compaction at a time holds ``.compact.lock``.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from vzero_data.store.layout import SCHEMA_BATCH, SHARDS, STAGING, StoreError, batch_dirs, write_batch
from vzero_data.store.schema import TABLES

log = logging.getLogger(__name__)

SOURCES_FILE = "compacted_from.json"
COMPACTED_TAG = "-compacted-"
LOCK_FILE = ".compact.lock"


@dataclass
class CompactSummary:
    """What :func:`compact` did."""

    batches_before: int = 0
    batches_after: int = 0
    merged: list[str] = field(default_factory=list)  # names of the new batches
    sources_removed: int = 0

    def format(self) -> str:
        return (
            f"{self.batches_before} batches -> {self.batches_after} "
            f"({self.sources_removed} merged into {len(self.merged)})"
        )


def batch_bytes(batch: Path) -> int:
    return sum(p.stat().st_size for p in batch.glob("*.parquet"))


def plan_groups(batches: list[Path], max_bytes: int) -> list[list[Path]]:
    """Runs of consecutive batches (in name order) whose files add up to at most ``max_bytes``;
    only groups of two or more are worth merging. The schema batch always stays alone."""
    groups: list[list[Path]] = []
    current: list[Path] = []
    size = 0
    for batch in batches:
        if batch.name == SCHEMA_BATCH:
            groups.append(current)
            current, size = [], 0
            continue
        b = batch_bytes(batch)
        if current and size + b > max_bytes:
            groups.append(current)
            current, size = [], 0
        current.append(batch)
        size += b
    groups.append(current)
    return [g for g in groups if len(g) > 1]


def _conformed(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table`` with exactly ``schema``'s columns: columns an older batch lacks become nulls."""
    columns = [
        table.column(f.name).cast(f.type)
        if f.name in table.column_names
        else pa.nulls(table.num_rows, f.type)
        for f in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)


def merge_tables(group: list[Path]) -> dict[str, pa.Table]:
    """Every table of the group's batches, rows concatenated in batch order."""
    out: dict[str, pa.Table] = {}
    for name, schema in TABLES.items():
        parts = []
        for batch in group:
            path = batch / f"{name}.parquet"
            if path.exists():
                try:
                    parts.append(_conformed(pq.read_table(path), schema))
                except (OSError, pa.ArrowException) as exc:
                    raise StoreError(f"{path}: cannot read ({exc}); compaction stopped") from exc
        if parts:
            out[name] = pa.concat_tables(parts)
    return out


def _remove_batch(root: Path, batch: Path) -> None:
    """Take a batch out of every reader's view with one rename, then delete it."""
    gone = root / STAGING / f"{batch.name}-removed"
    gone.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(batch, gone)
    except FileNotFoundError:
        return
    shutil.rmtree(gone, ignore_errors=True)


def finish_compactions(root: Path) -> int:
    """Remove sources that a published merged batch already holds (a compaction killed between
    publishing and removing them). Returns how many were removed."""
    removed = 0
    shards = root / SHARDS
    for merged in sorted(shards.glob(f"*{COMPACTED_TAG}*")):
        try:
            sources = json.loads((merged / SOURCES_FILE).read_text())
        except (OSError, json.JSONDecodeError):
            continue
        for name in sources:
            source = shards / name
            if source.is_dir() and source != merged:
                try:
                    _remove_batch(root, source)
                except OSError as exc:  # e.g. a read-only store: the next writable open finishes it
                    log.warning("%s: cannot finish the compaction into %s (%s)", source, merged.name, exc)
                    continue
                removed += 1
    return removed


@contextmanager
def compaction_lock(root: Path) -> Iterator[None]:
    """Held while batches are merged or removed (compaction) or listed for a sync, so a sync
    never lists a merged batch beside its sources; writers never take it."""
    with open(root / LOCK_FILE, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(f"{root}: another compaction or sync of this store is running") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def compact(root: Path, max_bytes: int) -> CompactSummary:
    """Merge consecutive small batches of the store at ``root`` into batches of about ``max_bytes``."""
    if max_bytes <= 0:
        raise StoreError(f"max_bytes must be positive, got {max_bytes}")
    summary = CompactSummary()
    with compaction_lock(root):
        finish_compactions(root)
        batches = batch_dirs(root)
        summary.batches_before = len(batches)
        for group in plan_groups(batches, max_bytes):
            name = group[0].name.split(COMPACTED_TAG)[0] + COMPACTED_TAG + os.urandom(4).hex()
            sources = json.dumps([b.name for b in group]).encode()
            write_batch(root, merge_tables(group), name, extra_files={SOURCES_FILE: sources})
            summary.merged.append(name)
            for batch in group:
                _remove_batch(root, batch)
                summary.sources_removed += 1
        summary.batches_after = len(batch_dirs(root))
    return summary
