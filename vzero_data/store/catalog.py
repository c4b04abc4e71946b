"""The DuckDB catalog: one view per table over its Parquet glob, plus bookkeeping about the build.

The catalog holds no data of its own, so it can always be rebuilt from the shards alone. It is
built in a temp file and renamed into place, so readers holding the old one are never disturbed.
Views re-expand their glob on every query: new batches are visible without a rebuild.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from vzero_data.store.layout import CATALOG, batch_dirs, table_glob
from vzero_data.store.schema import TABLES

CATALOG_VERSION = 1


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def view_sql(root: Path, table: str) -> str:
    """The SELECT behind a table's view. ``images`` dedups by sha256 (concurrent writers may race)."""
    scan = f"read_parquet({_sql_str(table_glob(root, table))}, union_by_name = true)"
    if table == "images":
        return f"SELECT DISTINCT ON (sha256) * FROM {scan}"
    if table == "runs":
        # A run is recorded at start and again at finish: show its latest row.
        return f"SELECT * FROM {scan} QUALIFY row_number() OVER (PARTITION BY run_id ORDER BY recorded_at DESC) = 1"
    return f"SELECT * FROM {scan}"


def create_views(con: duckdb.DuckDBPyConnection, root: Path) -> None:
    for table in TABLES:
        con.execute(f"CREATE OR REPLACE VIEW {table} AS {view_sql(root, table)}")


def build_catalog(root: Path) -> Path:
    """(Re)create ``STORE/catalog.duckdb`` from the shards alone; atomic replace."""
    root = root.resolve()
    final = root / CATALOG
    tmp = root / f".{CATALOG}.tmp-{os.getpid()}"
    tmp.unlink(missing_ok=True)
    con = duckdb.connect(str(tmp))
    try:
        create_views(con, root)
        con.execute("CREATE TABLE catalog_info (key VARCHAR PRIMARY KEY, value VARCHAR)")
        info = {
            "root": str(root),
            "catalog_version": str(CATALOG_VERSION),
            "built_at": datetime.now(timezone.utc).isoformat(),
            "batches": str(len(batch_dirs(root))),
        }
        con.executemany("INSERT INTO catalog_info VALUES (?, ?)", list(info.items()))
        con.execute("CHECKPOINT")
    finally:
        con.close()
    os.replace(tmp, final)
    return final


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the catalog; falls back to in-memory views if it is missing, stale
    (built for another path, e.g. after the store was moved) or locked."""
    root = root.resolve()
    path = root / CATALOG
    if path.exists():
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error:
            con = None
        if con is not None:
            try:
                rows = dict(con.execute("SELECT key, value FROM catalog_info").fetchall())
                if rows.get("root") == str(root) and rows.get("catalog_version") == str(CATALOG_VERSION):
                    return con
            except duckdb.Error:
                pass
            con.close()
    con = duckdb.connect(":memory:")
    create_views(con, root)
    return con
