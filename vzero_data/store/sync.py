"""``vzero-data sync STORE URI``: publish a local store's finished batches to object storage (or any
fsspec URI, or a shared folder), idempotently.

1. Under the store's compaction lock, list the published batches (a compaction killed half-way is
   completed first, so no batch is listed beside the merged batch that replaces it). Batches that
   writers publish meanwhile wait for the next sync.
2. Copy each file the URI's manifest does not already list with the same size; a file a killed
   sync left there whole (same size) is kept. Copies run ``concurrency`` at a time.
3. Write the manifest last, in one write: until then readers see the previous manifest's batches
   only, never part of a batch (see :mod:`vzero_data.store.published`).

A rerun copies only what is missing. Batches at the URI the new manifest does not list (merged away
by a local ``compact``, or left by a killed sync) are left in place, counted, and removed only with
``prune``, after the manifest that no longer lists them is written.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vzero_core.file_hash import file_sha256
from vzero_core.uris import redact
from vzero_data.store.compact import compaction_lock, finish_compactions
from vzero_data.store.layout import SHARDS, StoreError
from vzero_data.store.published import MANIFEST, FileEntry, Manifest, is_local, read_manifest, store_fs
from vzero_data.store.store import Store


@dataclass
class SyncSummary:
    """What a sync copied, kept and left."""

    uri: str
    batches: int = 0
    files: int = 0
    copied: int = 0
    bytes_copied: int = 0
    already_there: int = 0
    unlisted_batches: list[str] = field(default_factory=list)
    pruned: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def format_text(self) -> str:
        line = (
            f"synced {self.batches} batches ({self.files} files) to {self.uri} in {self.seconds:.1f}s: "
            f"copied {self.copied} files ({self.bytes_copied / 1e6:.1f} MB), {self.already_there} already there"
        )
        if self.pruned:
            line += f"; removed {self.pruned} batches no longer listed"
        elif self.unlisted_batches:
            line += (
                f"; {len(self.unlisted_batches)} batches there are no longer listed (merged by compact); "
                "--prune removes them"
            )
        return line


def _remote_sizes(fs: Any, shards: str) -> dict[str, int]:
    """Sizes of the files under ``shards`` (relative ``batch/name`` keys)."""
    try:
        found = fs.find(shards, detail=True)
    except FileNotFoundError:
        return {}
    out = {}
    for path, info in found.items():
        rel = path.rstrip("/")[len(shards.rstrip("/")) + 1 :]
        if info.get("type") == "file" and "/" in rel:
            out[rel] = int(info.get("size") or 0)
    return out


def _remote_batches(fs: Any, shards: str) -> set[str]:
    try:
        return {p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(shards, detail=False)}
    except FileNotFoundError:
        return set()


def _write_manifest(fs: Any, base: str, data: bytes) -> None:
    """One write that replaces the manifest whole (a rename on a local file system; one PUT on an
    object store, which readers see entirely or not at all)."""
    target = f"{base}/{MANIFEST}"
    if is_local(fs):
        fs.makedirs(base, exist_ok=True)
        tmp = f"{base}/.{MANIFEST}.tmp"
        fs.pipe_file(tmp, data)
        fs.mv(tmp, target)
    else:
        fs.pipe_file(target, data)


def sync_store(
    store: Store, uri: str, *, concurrency: int = 8, prune: bool = False, progress: bool = True
) -> SyncSummary:
    """Publish ``store``'s batches to ``uri``; see the module docstring."""
    from vzero_core.progress import progress_bar

    t0 = time.perf_counter()
    fs, base = store_fs(uri)
    base = base.rstrip("/")
    shown = redact(uri.rstrip("/"))
    if is_local(fs) and Path(base).resolve() == Path(store.root).resolve():
        raise StoreError(f"{shown}: is the store itself")
    old = read_manifest(fs, base, shown) or Manifest({})
    summary = SyncSummary(shown)
    with compaction_lock(store.root):
        finish_compactions(store.root)
        local = {b.name: {p.name: p for p in sorted(b.glob("*.parquet"))} for b in store.batches()}
        remote: dict[str, int] | None = None
        entries: dict[str, dict[str, FileEntry]] = {}
        todo: list[tuple[str, str, Path]] = []
        for batch, files in local.items():
            entries[batch] = {}
            for name, path in files.items():
                known = old.batches.get(batch, {}).get(name)
                if known is not None and known.size == path.stat().st_size:
                    entries[batch][name] = known
                    summary.already_there += 1
                else:
                    todo.append((batch, name, path))
        if todo:
            remote = _remote_sizes(fs, f"{base}/{SHARDS}")

        def copy(job: tuple[str, str, Path]) -> tuple[str, str, FileEntry, bool]:
            batch, name, path = job
            entry = FileEntry(path.stat().st_size, file_sha256(path))
            there = remote is not None and remote.get(f"{batch}/{name}") == entry.size
            if not there:
                if is_local(fs):
                    fs.makedirs(f"{base}/{SHARDS}/{batch}", exist_ok=True)
                fs.put_file(str(path), f"{base}/{SHARDS}/{batch}/{name}")
            return batch, name, entry, there

        with ThreadPoolExecutor(max(1, concurrency)) as pool:
            for batch, name, entry, there in progress_bar(
                pool.map(copy, todo), desc=f"sync to {shown}", unit="file", total=len(todo), enabled=progress
            ):
                entries[batch][name] = entry
                if there:
                    summary.already_there += 1
                else:
                    summary.copied += 1
                    summary.bytes_copied += entry.size
    manifest = Manifest(entries)
    _write_manifest(fs, base, manifest.to_json())
    summary.batches = len(entries)
    summary.files = sum(len(f) for f in entries.values())
    summary.unlisted_batches = sorted(_remote_batches(fs, f"{base}/{SHARDS}") - set(entries))
    if prune:
        for batch in summary.unlisted_batches:
            fs.rm(f"{base}/{SHARDS}/{batch}", recursive=True)
            summary.pruned += 1
    summary.seconds = time.perf_counter() - t0
    return summary
