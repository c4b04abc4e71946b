"""``Store``: open a curation store, write to it, query it, rebuild its catalog."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from vzero_core.versions import package_versions
from vzero_data.store import catalog
from vzero_data.store.compact import finish_compactions
from vzero_data.store.damage import damaged_shard
from vzero_data.store.layout import (
    SHARDS,
    StoreError,
    batch_dirs,
    check_layout,
    clean_stale_tmp,
    init_layout,
    is_store,
    table_glob,
    write_batch,
)
from vzero_data.store.locking import LOCK_FILE, RunLease, run_is_alive, store_lock
from vzero_data.store.reader import StoreReader
from vzero_data.store.schema import RUNS
from vzero_data.store.writer import DEFAULT_SHARD_MAX_BYTES, StoreWriter

if TYPE_CHECKING:
    from vzero_data.store.compact import CompactSummary
    from vzero_data.store.published import PublishedStore


class Store(StoreReader):
    """A store directory: Parquet shards (the truth) and a DuckDB catalog over them."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- writing ----------------------------------------------------------------------------------
    def writer(
        self, run_id: str, config_hash: str, shard_max_bytes: int = DEFAULT_SHARD_MAX_BYTES
    ) -> StoreWriter:
        """A streaming writer (use as a context manager); images already stored are skipped."""
        return StoreWriter(
            self.root,
            run_id,
            config_hash,
            self.stored_image_hashes(),
            shard_max_bytes=shard_max_bytes,
            fingerprinted_images=self.fingerprinted_images(),
        )

    def record_run(
        self,
        run_id: str,
        config_hash: str,
        *,
        recipe: str = "",
        started_at: datetime | None = None,
        finished_at: datetime | None = None,
        timings: Mapping[str, Any] | None = None,
        counts: Mapping[str, Any] | None = None,
        status: str = "finished",
        versions: Mapping[str, str] | None = None,
    ) -> None:
        """Append a row to ``runs`` (call at start with status 'running' and again at the end; the
        ``runs`` view shows the latest row per run)."""
        now = datetime.now(timezone.utc)
        row = {
            "run_id": run_id,
            "config_hash": config_hash,
            "recipe": recipe,
            "started_at": started_at or now,
            "finished_at": finished_at,
            "package_versions": json.dumps(
                dict(versions) if versions else package_versions(), sort_keys=True
            ),
            "timings": json.dumps(dict(timings or {}), sort_keys=True),
            "counts": json.dumps(dict(counts or {}), sort_keys=True),
            "status": status,
            "recorded_at": now,
        }
        write_batch(self.root, {"runs": pa.Table.from_pylist([row], schema=RUNS)})

    def lease(self, run_id: str) -> RunLease:
        """The lease a run holds while it runs (``with store.lease(run_id):``); see ``mark_dead_runs``."""
        return RunLease(self.root, run_id)

    def mark_dead_runs(self) -> list[str]:
        """Record as ``interrupted`` every run still ``running`` whose process is gone (killed, or
        its machine lost): it holds no lease. Returns their run ids."""
        running = self.query("SELECT * FROM runs WHERE status = 'running' ORDER BY run_id").to_pylist()
        dead = []
        with store_lock(self.root):
            for row in running:
                if run_is_alive(self.root, row["run_id"]):
                    continue
                row.update(status="interrupted", recorded_at=datetime.now(timezone.utc))
                write_batch(self.root, {"runs": pa.Table.from_pylist([row], schema=RUNS)})
                RunLease(self.root, row["run_id"]).path.unlink(missing_ok=True)
                dead.append(row["run_id"])
        return dead

    # -- reading (the rest is StoreReader's) -----------------------------------------------------
    def connect(self) -> duckdb.DuckDBPyConnection:
        return catalog.connect(self.root)

    def connect_sandboxed(self) -> duckdb.DuckDBPyConnection:
        return catalog.connect_sandboxed(self.root)

    def table_files(self, table: str) -> str:
        return table_glob(self.root, table)

    def read_shard(
        self, batch: Path, table: str, columns: list[str] | None = None, filters: list | None = None
    ) -> pa.Table | None:
        path = batch / f"{table}.parquet"
        if not path.exists():
            return None
        try:
            return pq.read_table(path, columns=columns, filters=filters or None)
        except (OSError, pa.ArrowException) as exc:
            raise damaged_shard(exc, self.root, path) from None

    def batches(self) -> list[Path]:
        return batch_dirs(self.root)

    # -- maintenance ------------------------------------------------------------------------------
    def compact(self, max_bytes: int = DEFAULT_SHARD_MAX_BYTES) -> CompactSummary:
        """Merge consecutive small batches into batches of about ``max_bytes`` (crash-safe swap, see
        :mod:`vzero_data.store.compact`), then rebuild the catalog."""
        from vzero_data.store.compact import compact

        summary = compact(self.root, max_bytes)
        self.rebuild_catalog()
        return summary

    def rebuild_catalog(self) -> Path:
        """Recreate ``catalog.duckdb`` from the shards alone; also removes stale temp batches."""
        clean_stale_tmp(self.root)
        return catalog.build_catalog(self.root)


def open_store(path: str | os.PathLike[str], create: bool = False) -> Store | PublishedStore:
    """Open the store at ``path``; with ``create`` make its layout (and catalog) if missing.

    A URI (``s3://bucket/store``, ``gs://``, ``hf://``, ``memory://``), or a folder a sync published
    to, opens the published store there: read-only (:mod:`vzero_data.store.published`)."""
    from vzero_data.store.published import is_published, open_published

    if is_published(path):
        if create:
            raise StoreError(
                f"{path}: a published store is read-only; curate into a local store and publish it "
                "with `vzero-data sync STORE URI`"
            )
        return open_published(str(path))
    root = Path(path)
    if not is_store(root):
        if not create:
            if root.exists():
                raise StoreError(f"{root}: not a vzero store (no {SHARDS}/ and marker file)")
            raise StoreError(
                f"{root}: no such store: no vzero store at this path (curate or ingest creates one)"
            )
        if not (root / LOCK_FILE).exists():  # a lock file: another launch is creating this store
            _refuse_foreign_dir(root)
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{root}: cannot create the store ({exc.strerror or exc})") from exc
        # Several launches (shards of one job) may create the same store at once: one does it.
        with store_lock(root):
            if not is_store(root):
                _refuse_foreign_dir(root)
                init_layout(root)
                Store(root).rebuild_catalog()
    check_layout(root)
    finish_compactions(root)
    return Store(root)


def _refuse_foreign_dir(root: Path) -> None:
    if root.is_dir() and not (root / SHARDS).exists() and any(p.name != LOCK_FILE for p in root.iterdir()):
        raise StoreError(f"{root}: directory exists and is not empty; refusing to turn it into a store")


def open_local_store(path: str | os.PathLike[str], what: str) -> Store:
    """:func:`open_store` for commands that change a store (``what`` names the command): a
    published store is refused, being read-only."""
    store = open_store(path)
    if not isinstance(store, Store):
        raise StoreError(f"{store.root}: a published store is read-only; {what} works on a local store")
    return store
