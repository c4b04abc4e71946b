"""The DuckDB catalog: one view per table over its Parquet glob, plus bookkeeping about the build.

The catalog holds no data of its own, so it can always be rebuilt from the shards alone. It is
built in a temp file and renamed into place, so readers holding the old one are never disturbed.
Views re-expand their glob on every query: new batches are visible without a rebuild.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from vzero_data.store.damage import damaged_shard
from vzero_data.store.layout import CATALOG, SHARDS, StoreError, batch_dirs, glob_escape, table_glob
from vzero_data.store.schema import TABLES

CATALOG_VERSION = 2  # 2: the audits table


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def has_files(root: Path, table: str) -> bool:
    """Whether any published batch holds ``table``: a store made before the table existed has none."""
    shards = root / SHARDS
    return shards.is_dir() and any(p.is_file() for p in shards.glob(f"*/{table}.parquet"))


def empty_view_sql(table: str) -> str:
    """A SELECT of no rows with ``table``'s columns and types, for a table no batch holds yet."""
    types = duckdb.from_arrow(TABLES[table].empty_table()).types
    columns = ", ".join(
        f'CAST(NULL AS {t}) AS "{name}"' for name, t in zip(TABLES[table].names, types, strict=True)
    )
    return f"SELECT {columns} WHERE false"


def view_sql(root: Path, table: str) -> str:
    """The SELECT behind a table's view. A table no batch holds yet (a store older than the table)
    is an empty view of the right columns."""
    return files_view_sql(_sql_str(table_glob(root, table)) if has_files(root, table) else None, table)


def files_view_sql(files: str | None, table: str) -> str:
    """The SELECT behind a table's view over ``files`` (a SQL glob string or list of paths; None:
    no file, an empty view). ``images`` dedups by sha256 (concurrent writers may race),
    ``fingerprints`` by subject."""
    if files is None:
        return empty_view_sql(table)
    scan = f"read_parquet({files}, union_by_name = true)"
    if table == "images":
        return f"SELECT DISTINCT ON (sha256) * FROM {scan}"
    if table == "fingerprints":
        return f"SELECT DISTINCT ON (subject, subject_id, algorithm) * FROM {scan}"
    if table == "runs":
        # A run is recorded at start and again at finish: show its latest row.
        return f"SELECT * FROM {scan} QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY recorded_at DESC) = 1"
    return f"SELECT * FROM {scan}"


def create_views(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    create_file_views(
        con, {t: _sql_str(table_glob(root, t)) if has_files(root, t) else None for t in TABLES}, root
    )


def create_file_views(con: duckdb.DuckDBPyConnection, files: dict[str, str | None], root: Any) -> None:
    """One view per table over ``files[table]`` (a SQL glob string or list of paths; None: empty)."""
    for table in TABLES:
        try:
            con.execute(f"CREATE OR REPLACE VIEW {table} AS {files_view_sql(files[table], table)}")
        except (duckdb.IOException, duckdb.InvalidInputException) as exc:  # a view binds its files
            raise damaged_shard(exc, root) from None


def sql_list(paths: list[str]) -> str:
    """``paths`` as a DuckDB list literal."""
    return "[" + ", ".join(_sql_str(p) for p in paths) + "]"


def lock_down(con: duckdb.DuckDBPyConnection, allowed: list[str]) -> None:
    """Turn off DuckDB's access to every file outside the ``allowed`` folders, and lock the setting."""
    con.execute("SET allowed_directories = ?", [sorted(set(allowed))])
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def build_catalog(root: Path) -> Path:
    """(Re)create ``STORE/catalog.duckdb`` from the shards alone; atomic replace."""
    root = root.resolve()
    final = root / CATALOG
    tmp = root / f".{CATALOG}.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    if not _duckdb_can_open(tmp):
        with tempfile.TemporaryDirectory() as elsewhere:
            shutil.copyfile(_build(root, Path(elsewhere) / CATALOG), tmp)
    else:
        _build(root, tmp)
    os.replace(tmp, final)
    return final


def _duckdb_can_open(path: Path) -> bool:
    """DuckDB reads ``?`` in a database path as the start of connection options."""
    return "?" not in str(path)


def _build(root: Path, tmp: Path) -> Path:
    con = duckdb.connect(str(tmp))
    try:
        create_views(con, root)
        con.execute("CREATE TABLE catalog_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
        info = {
            "root": str(root),
            "catalog_version": str(CATALOG_VERSION),
            "built_at": datetime.now(timezone.utc).isoformat(),
            "batches": str(len(batch_dirs(root))),
            # Views built empty: once a batch holds one of these tables the catalog is stale.
            "empty_tables": ",".join(t for t in TABLES if not has_files(root, t)),
        }
        con.executemany("INSERT INTO catalog_info VALUES (?, ?)", list(info.items()))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return tmp


def connect_sandboxed(root: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with the store's views that can read the store's shards and no
    other file: DuckDB's external access is off except for ``STORE/shards/``, no extension can be
    installed or loaded, and the configuration is locked so a query cannot turn it back on."""
    root = root.resolve()
    con = duckdb.connect(
        ":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    )
    create_views(con, root)
    shards = str(root / SHARDS) + os.sep
    # DuckDB checks the views' glob (escaped, see ``table_glob``) as well as the files it expands to.
    lock_down(con, [shards, glob_escape(shards)])
    return con


READ_ONLY_STATEMENTS = ("SELECT", "EXPLAIN")


def read_only_query(store: Any, sql: str) -> pa.Table:
    """Run ``sql`` (SELECT or EXPLAIN statements only) on the store's sandboxed connection (see
    :func:`connect_sandboxed`); the last statement's rows. Anything else is a ``StoreError`` before
    any statement runs."""
    root = store.root
    con = store.connect_sandboxed()
    try:
        statements = con.extract_statements(sql)
        if not statements:
            raise StoreError("no SQL statement given")
        for statement in statements:
            if statement.type.name not in READ_ONLY_STATEMENTS:
                raise StoreError(
                    f"queries are read-only ({', '.join(READ_ONLY_STATEMENTS)}); got "
                    f"{statement.type.name}: {statement.query.strip()[:80]}"
                )
        rel = None
        for statement in statements:
            rel = con.sql(statement.query)
        return rel.to_arrow_table() if rel is not None else pa.table({})
    except (duckdb.IOException, duckdb.InvalidInputException) as exc:
        raise damaged_shard(exc, root) from None
    finally:
        con.close()


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the catalog; falls back to in-memory views if it is missing, stale
    (built for another path, e.g. after the store was moved, or before a table it showed empty got
    its first batch) or locked."""
    root = root.resolve()
    path = root / CATALOG
    if path.exists() and _duckdb_can_open(path):
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error:
            con = None
        if con is not None:
            try:
                rows = dict(con.execute("SELECT key, value FROM catalog_info").fetchall())
                empty = [t for t in (rows.get("empty_tables") or "").split(",") if t]
                if (
                    rows.get("root") == str(root)
                    and rows.get("catalog_version") == str(CATALOG_VERSION)
                    and not any(has_files(root, t) for t in empty)
                ):
                    return con
            except duckdb.Error:
                pass
            con.close()
    con = duckdb.connect(":memory:")
    create_views(con, root)
    return con
