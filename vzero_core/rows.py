"""Row readers that name file and row: JSONL lines, CSV/TSV records, Parquet rows (streamed in batches)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class SourceError(ValueError):
    """A source that cannot be read at all (missing file, wrong layout, unknown format)."""


@dataclass(frozen=True)
class Rejected:
    """An item that could not become a sample, with a reason code and a located detail.

    ``sample_id`` is set when the item's sample is known (a repeat of an earlier sample): the shard
    owning that sample is the only one that sees the repeat, so it owns the rejection too.
    """

    key: str
    reason: str
    detail: str
    sample_id: str | None = None

    @property
    def owner(self) -> str:
        """The id whose ``--shard`` records this rejection."""
        return self.sample_id or self.key


PARQUET_BATCH_ROWS = 64


def _bad_utf8(text: str) -> int | None:
    """Column (1-based) of the first byte that was not valid UTF-8 (decoded as a surrogate escape)."""
    for i, ch in enumerate(text):
        if "\udc80" <= ch <= "\udcff":
            return i + 1
    return None


def _utf8_detail(text: str) -> str:
    col = _bad_utf8(text) or 0
    return f"not valid UTF-8 (byte 0x{ord(text[col - 1]) - 0xDC00:02x} at column {col})"


def iter_jsonl(path: Path) -> Iterator[tuple[str, dict[str, Any]] | Rejected]:
    """``(where, object)`` per non-blank line; a malformed line (bad JSON, bad UTF-8, not an object)
    becomes a located rejection and the lines after it are still read."""
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            if _bad_utf8(line) is not None:
                yield Rejected(where, "malformed_row", f"{where}: {_utf8_detail(line)}")
                continue
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


def iter_csv(path: Path, *, delimiter: str = ",") -> Iterator[tuple[str, dict[str, Any]] | Rejected]:
    """``(where, row)`` per CSV/TSV record (header row gives the field names); empty cells are None.

    Standard double-quote quoting, as pandas and VLMEvalKit write: a quoted cell may hold the
    delimiter, doubled quotes and line breaks, and files with every field quoted read the same.
    ``where`` names the line the record starts on. A record with bad UTF-8 or the wrong number of
    cells becomes a located rejection; the records after it are still read.
    """
    csv.field_size_limit(2**31 - 1)  # base64 images exceed csv's 128 KiB default field limit
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        try:
            fieldnames = reader.fieldnames
        except csv.Error as exc:
            raise SourceError(f"{path}:1: malformed header row ({exc})") from exc
        if not fieldnames:
            raise SourceError(f"{path}: empty file (no header row)")
        if any(_bad_utf8(name) is not None for name in fieldnames):
            raise SourceError(f"{path}:1: header row is {_utf8_detail(delimiter.join(fieldnames))}")
        while True:
            start = reader.line_num + 1
            where = f"{path}:{start}"
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield Rejected(where, "malformed_row", f"{where}: malformed record ({exc})")
                continue
            if None in row or any(v is None for v in row.values()):
                yield Rejected(
                    where,
                    "malformed_row",
                    f"{where}: {len(fieldnames)} columns expected, row has a different count",
                )
                continue
            bad = next((v for v in row.values() if _bad_utf8(v) is not None), None)
            if bad is not None:
                yield Rejected(where, "malformed_row", f"{where}: {_utf8_detail(bad)}")
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


def read_json_file(path: Path) -> Any:
    """A whole JSON file. Bytes that are not valid UTF-8 do not abandon the file: they are kept as
    surrogate escapes, and :func:`bad_utf8_in` finds the records holding them so only those are
    rejected. Malformed JSON raises :class:`json.JSONDecodeError`."""
    with open(path, encoding="utf-8-sig", errors="surrogateescape") as fh:
        return json.loads(fh.read())


def bad_utf8_in(value: Any) -> str | None:
    """A description of the first string (key or value) in ``value`` holding bytes that were not
    valid UTF-8, or ``None``."""
    if isinstance(value, str):
        return _utf8_detail(value) if _bad_utf8(value) is not None else None
    if isinstance(value, dict):
        for k, v in value.items():
            found = bad_utf8_in(k) or bad_utf8_in(v)
            if found:
                return f"field {k!r}: {found}" if isinstance(k, str) and not bad_utf8_in(k) else found
    elif isinstance(value, list):
        for v in value:
            found = bad_utf8_in(v)
            if found:
                return found
    return None
