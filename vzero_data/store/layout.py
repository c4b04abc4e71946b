"""Where things live inside a store directory, and the one atomic operation: publishing a batch.

::

    STORE/
      vzero-store.json                 marker + layout version
      catalog.duckdb                   DuckDB views over the shards (rebuildable)
      shards/<batch_id>/<table>.parquet  one directory per batch; published by one rename
      .staging/<batch_id>/             a batch being written (outside every reader's glob)

A batch holds whole samples only, so a sample is either completely visible or not at all. Batches
are staged outside ``shards/`` rather than as hidden ``shards/.tmp-*`` dirs because DuckDB's glob
``*`` does match names with a leading dot (checked: ``read_parquet('shards/*/t.parquet')`` reads
``shards/.tmp-x/t.parquet``), and other tools' globs differ too.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from vzero_data.store.schema import DEFAULT_ROW_GROUP_ROWS, ROW_GROUP_ROWS, TABLES

MARKER = "vzero-store.json"
LAYOUT_VERSION = 1
SHARDS = "shards"
CATALOG = "catalog.duckdb"
STAGING = ".staging"
# An empty, zero-row file of every table, so every table's glob always matches at least one file.
SCHEMA_BATCH = "00000000T000000000000Z-schema"
STALE_TMP_SECONDS = 24 * 3600
ZSTD_LEVEL = 3


# Staging dirs this process is writing now: never stale, whichever of its writers cleans up.
_IN_FLIGHT: set[Path] = set()


class StoreError(ValueError):
    """A path that is not a store, or a store operation that cannot proceed."""


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def new_batch_id() -> str:
    """Unique across concurrent writers on many machines; sorts roughly by creation time."""
    now = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40] or "host"
    return f"{now}-{host}-{os.getpid()}-{secrets.token_hex(4)}"


def new_run_id() -> str:
    """A run's id: its start time (UTC, to the second) and a random suffix."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:8]}"


def glob_escape(path: str) -> str:
    """``path`` with DuckDB's glob characters made literal (``[`` ``*`` ``?`` as one-character
    classes), so a store at ``data/st[12]`` never matches ``data/st1`` or ``data/st2``."""
    return "".join(f"[{c}]" if c in "[*?" else c for c in path)


def table_glob(root: Path, table: str) -> str:
    """The glob of a table's Parquet files in every published batch; ``root`` is taken literally."""
    return glob_escape(str(root / SHARDS)) + f"/*/{table}.parquet"


def batch_dirs(root: Path) -> list[Path]:
    """Published batches in name (time) order; hidden temp dirs excluded."""
    shards = root / SHARDS
    return sorted(p for p in shards.iterdir() if p.is_dir() and not p.name.startswith("."))


def write_batch(
    root: Path,
    tables: dict[str, pa.Table],
    batch_id: str | None = None,
    *,
    extra_files: dict[str, bytes] | None = None,
) -> Path:
    """Write ``tables`` (and ``extra_files``, e.g. a compaction's list of sources) into a staging
    dir, fsync, then publish with one atomic rename into ``shards/``. The staging dir is always
    named for this process, so no other writer mistakes it for a dead writer's leftovers."""
    stage_id = new_batch_id()
    batch_id = batch_id or stage_id
    shards = root / SHARDS
    tmp = root / STAGING / stage_id
    final = shards / batch_id
    tmp.mkdir(parents=True)
    key = tmp.resolve()
    _IN_FLIGHT.add(key)
    try:
        for name, table in tables.items():
            path = tmp / f"{name}.parquet"
            pq.write_table(
                table,
                path,
                row_group_size=ROW_GROUP_ROWS.get(name, DEFAULT_ROW_GROUP_ROWS),
                write_page_checksum=True,  # CRC32 per page: `vzero-data verify` finds flipped bytes
                **_encoding(table.schema),
            )
            _fsync_path(path)
        for name, data in (extra_files or {}).items():
            (tmp / name).write_bytes(data)
            _fsync_path(tmp / name)
        _fsync_path(tmp)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        _IN_FLIGHT.discard(key)
    _fsync_path(shards)
    return final


def _encoding(schema: pa.Schema) -> dict:
    """zstd everywhere except encoded-image columns (PNG/JPEG do not compress further: zstd there
    only costs time); no dictionary encoding for those unique blobs either."""
    blobs = {f.name for f in schema if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)}
    return {
        "compression": {f.name: ("none" if f.name in blobs else "zstd") for f in schema},
        "compression_level": {f.name: ZSTD_LEVEL for f in schema if f.name not in blobs},
        "use_dictionary": [f.name for f in schema if f.name not in blobs],
    }


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_tmp(root: Path, *, max_age_s: float = STALE_TMP_SECONDS) -> list[Path]:
    """Remove staged batch dirs left by killed writers: same host and dead pid, or older than ``max_age_s``.

    A live writer's staging dir (on this host or, within ``max_age_s``, on another) is left alone;
    so is one this process is writing (a pid reused from a dead writer is this process's own).
    """
    removed = []
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40] or "host"
    staging = root / STAGING
    for path in staging.iterdir() if staging.is_dir() else ():
        if path.resolve() in _IN_FLIGHT:
            continue
        parts = path.name.split("-")
        dead_here = False
        if len(parts) >= 4 and parts[1] == host and parts[2].isdigit():
            dead_here = not _pid_alive(int(parts[2])) or int(parts[2]) == os.getpid()
        old = time.time() - path.stat().st_mtime > max_age_s
        if dead_here or old:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def is_store(root: Path) -> bool:
    return (root / MARKER).is_file() and (root / SHARDS).is_dir()


def init_layout(root: Path) -> None:
    """Create the directory layout, the marker and the schema batch (idempotent)."""
    (root / SHARDS).mkdir(parents=True, exist_ok=True)
    if not (root / SHARDS / SCHEMA_BATCH).exists():
        empty = {name: schema.empty_table() for name, schema in TABLES.items()}
        try:
            write_batch(root, empty, SCHEMA_BATCH)
        except OSError:
            # Another process published it first.
            if not (root / SHARDS / SCHEMA_BATCH).exists():
                raise
    marker = root / MARKER
    if not marker.exists():
        tmp = root / f"{MARKER}.tmp-{os.getpid()}"
        tmp.write_text(json.dumps({"format": "vzero-store", "layout_version": LAYOUT_VERSION}) + "\n")
        os.replace(tmp, marker)


def check_layout(root: Path) -> None:
    try:
        info = json.loads((root / MARKER).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise StoreError(f"{root}: unreadable store marker {MARKER} ({exc})") from exc
    version = info.get("layout_version")
    if version != LAYOUT_VERSION:
        raise StoreError(
            f"{root}: store layout version {version!r}, this vzero reads version {LAYOUT_VERSION}"
        )
