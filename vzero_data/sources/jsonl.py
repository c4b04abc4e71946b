"""Generic JSONL: one JSON object per line with vzero's documented fields (see :mod:`.generic`)."""

from __future__ import annotations

from collections.abc import Iterator

from vzero_core.rows import Rejected, iter_jsonl
from vzero_data.sources.base import RawItem, SourceOptions, require_path
from vzero_data.sources.generic import generic_items


class JsonlSource:
    name = "jsonl"
    description = "generic JSONL (image path relative to --image-root, question, bbox xyxy or bbox_xywh, ...)"

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        return generic_items(iter_jsonl(require_path(src, want_dir=False)), options, self.name)
