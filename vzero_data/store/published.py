"""A store published by ``vzero-data sync`` to object storage (or any fsspec URI, or a shared
folder): read-only, read through fsspec, and only the batches its manifest lists.

::

    URI/vzero-manifest.json              written last by sync: every batch and its files (size, sha256)
    URI/shards/<batch_id>/<table>.parquet  the local store's published batches, copied as they are

Readers list no folder: they read the manifest and open exactly the files it names, so a batch
being copied (or copied by a sync that was killed) is invisible until a manifest that lists it
has replaced the old one in one write. The manifest is the only file ever replaced.
Credentials come from the environment and each backend's own config files, never from the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from vzero_core.uris import UriError, check_remote, is_uri, redact
from vzero_data.store import catalog
from vzero_data.store.damage import damaged_shard
from vzero_data.store.layout import LAYOUT_VERSION, MARKER, SHARDS, StoreError
from vzero_data.store.reader import StoreReader
from vzero_data.store.schema import TABLES

MANIFEST = "vzero-manifest.json"
MANIFEST_FORMAT = "vzero-published-store"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class FileEntry:
    """One published shard file: its size and content hash, as sync copied it."""

    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """Every published batch (in name order) and its files."""

    batches: dict[str, dict[str, FileEntry]]

    def to_json(self) -> bytes:
        doc = {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "layout_version": LAYOUT_VERSION,
            "batches": [
                {
                    "id": b,
                    "files": {n: {"size": e.size, "sha256": e.sha256} for n, e in sorted(files.items())},
                }
                for b, files in sorted(self.batches.items())
            ],
        }
        return (json.dumps(doc, indent=1) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, where: str) -> Manifest:
        try:
            doc = json.loads(data)
            if doc.get("format") != MANIFEST_FORMAT or doc.get("layout_version") != LAYOUT_VERSION:
                raise ValueError(
                    f"format {doc.get('format')!r}, layout version {doc.get('layout_version')!r}; "
                    f"this vzero reads {MANIFEST_FORMAT!r} with layout version {LAYOUT_VERSION}"
                )
            batches = {
                str(b["id"]): {
                    str(n): FileEntry(int(e["size"]), str(e["sha256"])) for n, e in b["files"].items()
                }
                for b in doc["batches"]
            }
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StoreError(f"{where}: unreadable store manifest ({exc})") from None
        return cls(batches)


def store_fs(location: str) -> tuple[Any, str]:
    """The fsspec file system and path of ``location`` (a URI or a local folder)."""
    from fsspec.core import url_to_fs

    try:
        if is_uri(location):
            check_remote(location)
        return url_to_fs(location)
    except UriError as exc:
        raise StoreError(str(exc)) from None
    except ImportError as exc:
        raise StoreError(
            f"{redact(location)}: no file system for it ({exc}); install the backends with pip install 'vzero[remote]'"
        ) from None


def is_local(fs: Any) -> bool:
    return "file" in (fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,))


def read_manifest(fs: Any, base: str, where: str) -> Manifest | None:
    """The manifest at ``base`` (None when there is none); unreadable storage is a ``StoreError``."""
    try:
        data = fs.cat_file(f"{base}/{MANIFEST}")
    except FileNotFoundError:
        return None
    except Exception as exc:  # a backend's own error (credentials, connection): one located line
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise StoreError(f"{where}: cannot read {MANIFEST} ({type(exc).__name__}: {first})") from None
    return Manifest.from_json(data, f"{where}/{MANIFEST}")


def is_published(location: str | Path) -> bool:
    """Whether ``location`` is a URI, or a local folder that a sync published to (not a local store)."""
    if is_uri(str(location)):
        return True
    path = Path(location)
    return (path / MANIFEST).is_file() and not (path / MARKER).is_file()


class PublishedStore(StoreReader):
    """A published store; see the module docstring. Open with :func:`open_published`."""

    def __init__(self, location: str, fs: Any, base: str, manifest: Manifest) -> None:
        self.root = redact(location.rstrip("/"))
        self.fs = fs
        self.base = base.rstrip("/")
        self.manifest = manifest
        for table in TABLES:
            if not self._files(table):
                raise StoreError(f"{self.root}: the manifest lists no {table}.parquet (not a complete store)")

    def __repr__(self) -> str:
        return f"PublishedStore({self.root!r})"

    def path(self, batch: str, name: str) -> str:
        """The file system path of a batch's file."""
        return f"{self.base}/{SHARDS}/{batch}/{name}"

    def uri(self, path: str) -> str:
        """``path`` as DuckDB and messages name it (a plain path on a local file system)."""
        return path if is_local(self.fs) else self.fs.unstrip_protocol(path)

    def _files(self, table: str) -> list[str]:
        name = f"{table}.parquet"
        return [self.path(b, name) for b, files in self.manifest.batches.items() if name in files]

    def batches(self) -> list[str]:
        return list(self.manifest.batches)

    def read_shard(
        self, batch: str, table: str, columns: list[str] | None = None, filters: list | None = None
    ) -> pa.Table | None:
        if f"{table}.parquet" not in self.manifest.batches.get(batch, {}):
            return None
        path = self.path(batch, f"{table}.parquet")
        try:
            return pq.read_table(path, columns=columns, filters=filters or None, filesystem=self.fs)
        except (OSError, pa.ArrowException) as exc:
            raise damaged_shard(exc, self.root, self.uri(path)) from None

    def table_files(self, table: str) -> list[str]:
        return [self.uri(p) for p in self._files(table)]

    def connect(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(
            ":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
        )
        if not is_local(self.fs):
            con.register_filesystem(self.fs)
        catalog.create_file_views(
            con,
            {t: catalog.sql_list(files) if (files := self.table_files(t)) else None for t in TABLES},
            self.root,
        )
        return con

    def connect_sandboxed(self) -> duckdb.DuckDBPyConnection:
        con = self.connect()
        catalog.lock_down(con, [self.uri(f"{self.base}/{SHARDS}") + "/"])
        return con


def open_published(location: str | Path) -> PublishedStore:
    """The store a sync published at ``location``; a ``StoreError`` when there is none."""
    location = str(location)
    fs, base = store_fs(location)
    where = redact(location.rstrip("/"))
    manifest = read_manifest(fs, base.rstrip("/"), where)
    if manifest is None:
        raise StoreError(
            f"{where}: no such store: no {MANIFEST} there (`vzero-data sync STORE {where}` publishes one)"
        )
    return PublishedStore(location, fs, base, manifest)
