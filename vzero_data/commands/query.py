"""Run SQL over a store. Tables: samples, images, regions, views, rejects, runs, fingerprints, audits
(DuckDB views over the Parquet shards). Binary columns print as their size. Queries are read-only
(SELECT, EXPLAIN) and can read the store's shards and no other file (DuckDB's external access is
disabled).

examples:
  vzero-data query data/store "SELECT source, count(*) FROM samples GROUP BY 1"
  vzero-data query data/store "SELECT reason, detail FROM rejects LIMIT 20" --format csv
"""

from __future__ import annotations

import argparse

HELP = "run SQL over a store's tables"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="store directory, or a published store's URI (s3://...)")
    parser.add_argument("sql", help="the SQL query")
    parser.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    parser.add_argument(
        "--max-rows", type=int, default=50, help="rows to print in table format (default: 50)"
    )


def run(args: argparse.Namespace) -> int:
    import sys

    import duckdb
    import pyarrow as pa

    from vzero_core.cli_support import CommandError
    from vzero_data.store import open_store
    from vzero_data.store.catalog import read_only_query
    from vzero_data.store.layout import StoreError

    try:
        table = read_only_query(open_store(args.store), args.sql)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    except duckdb.Error as exc:
        raise CommandError(f"query failed: {exc}") from exc
    for i, field in enumerate(table.schema):
        if pa.types.is_binary(field.type) or pa.types.is_large_binary(field.type):
            sizes = [None if v is None else f"<{len(v)} bytes>" for v in table.column(i).to_pylist()]
            table = table.set_column(i, field.name, pa.array(sizes, pa.string()))
    if args.format == "csv":
        table.to_pandas().to_csv(sys.stdout, index=False)
    elif args.format == "json":
        print(table.to_pandas().to_json(orient="records", lines=True, force_ascii=False), end="")
    else:
        import pandas as pd

        df = pd.DataFrame(
            {name: [cell_text(v) for v in table.column(name).to_pylist()] for name in table.column_names}
        )
        with pd.option_context(
            "display.max_rows", args.max_rows, "display.max_columns", None, "display.width", 200
        ):
            print(
                df.to_string(max_rows=args.max_rows, index=False)
                if len(df)
                else f"(no rows) columns: {table.column_names}"
            )
    return 0


def cell_text(value: object) -> str:
    """A value as the table shows it: SQL NULL as ``NULL`` (not pandas' NaN), integers as integers."""
    return "NULL" if value is None else str(value)
