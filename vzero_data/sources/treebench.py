"""TreeBench-style Parquet: ``image`` (base64 text), ``question``, ``multi-choice options``, ``answer``,
``category``, ``target_instances`` (xyxy pixel boxes; a list or JSON text)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from pathlib import Path

from vzero_data.sources.base import RawItem, Rejected, SourceOptions, require_path
from vzero_data.sources.fields import FieldError, optional_str, parse_boxes, parse_options
from vzero_data.sources.rows import iter_parquet

OPTIONS_COLUMN = "multi-choice options"
OWN_FIELDS = ("image", "question", OPTIONS_COLUMN, "answer", "target_instances", "index")


class TreeBenchSource:
    name = "treebench"
    description = "TreeBench-style Parquet (base64 image, target_instances xyxy)"

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        return self._items(require_path(src))

    def _items(self, path: Path) -> Iterator[RawItem | Rejected]:
        for where, row in iter_parquet(path):
            key = optional_str(row.get("index")) or where
            try:
                raw = row.get("image")
                if isinstance(raw, (bytes, bytearray)):
                    data = bytes(raw)
                elif isinstance(raw, str):
                    data = base64.b64decode(raw, validate=True)
                else:
                    raise FieldError(f"image: expected base64 text, got {type(raw).__name__}")
                boxes = parse_boxes(row.get("target_instances"), "target_instances")
                opts = parse_options(row.get(OPTIONS_COLUMN), OPTIONS_COLUMN)
            except (FieldError, binascii.Error) as exc:
                yield Rejected(key, "bad_field", f"{where}: {exc}")
                continue
            yield RawItem(
                where=where,
                question=row.get("question"),
                image_bytes=data,
                answer=optional_str(row.get("answer")),
                options=opts,
                boxes_xyxy=boxes,
                source=self.name,
                source_id=optional_str(row.get("index")),
                metadata={k: v for k, v in row.items() if k not in OWN_FIELDS},
            )
