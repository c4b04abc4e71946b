"""TreeBench: ``TreeBench.tsv`` as published (tab-separated, standard double-quote quoting), or a
Parquet conversion of it.

Columns: ``index``, ``image`` (base64 JPEG), ``question``, ``multi-choice options`` (text, one
"A. red" option per line; the "A. " labels are dropped), ``answer`` (a letter; stored as the
option's text), ``category`` (e.g. "Perception/Attributes"), ``target_instances`` (text of a Python
list of xyxy pixel boxes, possibly empty, read with ``ast.literal_eval``). Some tools write the
options as ``A``..``D`` columns instead; those are read when ``multi-choice options`` is absent.
A folder holding ``TreeBench.tsv`` may be given.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from typing import Any

from vzero_core.choices import LETTERS
from vzero_core.fields import FieldError, option_answer, optional_str, parse_boxes, parse_options
from vzero_core.rows import Rejected, iter_csv, iter_parquet
from vzero_data.sources.base import RawItem, SourceOptions, require_path

TSV_NAME = "TreeBench.tsv"
OPTIONS_COLUMN = "multi-choice options"
OWN_FIELDS = ("image", "question", OPTIONS_COLUMN, "answer", "target_instances", "index", *LETTERS)


class TreeBenchSource:
    name = "treebench"
    description = "TreeBench.tsv (base64 image, options, target_instances xyxy) or a Parquet conversion"

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        path = require_path(src)
        if path.is_dir() and (path / TSV_NAME).is_file():
            path = path / TSV_NAME
        if path.is_file() and path.suffix.lower() in (".tsv", ".csv"):
            rows = iter_csv(path, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
        else:
            rows = iter_parquet(path)
        return self._items(rows)

    def _items(self, rows: Iterator[tuple[str, dict[str, Any]] | Rejected]) -> Iterator[RawItem | Rejected]:
        for entry in rows:
            if isinstance(entry, Rejected):
                yield entry
                continue
            where, row = entry
            key = optional_str(row.get("index")) or where
            try:
                data = image_cell_bytes(row.get("image"))
                boxes = parse_boxes(row.get("target_instances"), "target_instances")
                opts = row_options(row)
                answer = option_answer(row.get("answer"), opts)
            except (FieldError, binascii.Error) as exc:
                yield Rejected(key, "bad_field", f"{where}: {exc}")
                continue
            yield RawItem(
                where=where,
                question=row.get("question"),
                image_bytes=data,
                answer=answer,
                options=opts,
                boxes_xyxy=boxes,
                source=self.name,
                source_id=optional_str(row.get("index")),
                metadata={k: v for k, v in row.items() if k not in OWN_FIELDS},
            )


def image_cell_bytes(raw: Any) -> bytes:
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw)
    if isinstance(raw, str):
        try:
            return base64.b64decode(raw, validate=True)
        except binascii.Error as exc:
            raise FieldError(f"image: not valid base64 ({exc})") from exc
    raise FieldError(f"image: expected base64 text, got {type(raw).__name__}")


def row_options(row: dict[str, Any]) -> list[str] | None:
    if row.get(OPTIONS_COLUMN) is not None:
        return parse_options(row.get(OPTIONS_COLUMN), OPTIONS_COLUMN)
    columns = []
    for letter in LETTERS:
        value = optional_str(row.get(letter))
        if value is None or not value.strip():
            break
        columns.append(value.strip())
    return columns or None
