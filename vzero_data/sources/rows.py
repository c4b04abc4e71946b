"""Row readers that name file and row: JSONL lines, CSV rows, Parquet rows (streamed in batches)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_data.sources.base import Rejected, SourceError

PARQUET_BATCH_ROWS = 64


def iter_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]] | Rejected]:
    """``(where, object)`` per non-blank line; a malformed line becomes a located rejection."""
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Rejected(
                    where, "malformed_row", f"{where}: malformed JSON ({exc.msg} at column {exc.colno})"
                )
                continue
            if not isinstance(obj, dict):
                yield Rejected(
                    where, "malformed_row", f"{where}: expected a JSON object, got {type(obj).__name__}"
                )
                continue
            yield where, obj


def iter_csv(path: Path) -> Iterator[tuple[str, dict[str, Any]] | Rejected]:
    """``(where, row)`` per CSV record (header row gives the field names); empty cells are None."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise SourceError(f"{path}: empty CSV (no header row)")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise SourceError(f"{path}:{reader.line_num}: malformed CSV ({exc})") from exc
            where = f"{path}:{reader.line_num}"
            if None in row or any(v is None for v in row.values()):
                yield Rejected(
                    where,
                    "malformed_row",
                    f"{where}: {len(reader.fieldnames)} columns expected, row has a different count",
                )
                continue
            yield where, {k: (v if v != "" else None) for k, v in row.items()}


def iter_parquet(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, row)`` per Parquet row, reading a few rows at a time (bounded memory)."""
    import pyarrow.parquet as pq

    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    if not files:
        raise SourceError(f"{path}: no .parquet files found")
    for file in files:
        try:
            pf = pq.ParquetFile(file)
        except Exception as exc:
            raise SourceError(f"{file}: not a readable Parquet file ({exc})") from exc
        index = 0
        for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for row in batch.to_pylist():
                yield f"{file} row {index}", row
                index += 1
