"""Generic CSV: a header row with vzero's documented fields; list fields (``bbox``, ``options``) as
JSON text (``options`` may also be ``|``-separated)."""

from __future__ import annotations

from collections.abc import Iterator

from vzero_core.rows import Rejected, iter_csv
from vzero_data.sources.base import RawItem, SourceOptions, require_path
from vzero_data.sources.generic import generic_items


class CsvSource:
    name = "csv"
    description = "generic CSV with a header row (same fields as jsonl; lists as JSON text)"

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        return generic_items(iter_csv(require_path(src, want_dir=False)), options, self.name)
