"""TreeBench for evaluation, read as its ingest reads it (:mod:`vzero_data.sources.treebench`):
``TreeBench.tsv`` (or its folder, or a Parquet conversion) with ``index``, ``image`` (base64),
``question``, ``multi-choice options`` ("A. red" lines; or ``A``..``D`` columns), ``answer`` (a
letter), ``category`` and ``target_instances`` (a Python-literal list of xyxy pixel boxes, possibly
empty). The options are shown in the published order, as TreeBench's own evaluation shows them;
the boxes are kept for the zooming-gap evaluation (an item without one is skipped there).
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_core.boxes import Box
from vzero_core.choices import ChoiceError, label_letter
from vzero_core.fields import FieldError, optional_str, parse_boxes
from vzero_core.rows import iter_csv, iter_parquet
from vzero_data.benchmarks import register_adapter
from vzero_data.benchmarks.hrbench import tsv_header
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped, image_from_bytes, items_from_rows
from vzero_data.sources.treebench import TSV_NAME, image_cell_bytes, row_options

BOXES_COLUMN = "target_instances"


def _file(src: Path) -> Path:
    return src / TSV_NAME if src.is_dir() and (src / TSV_NAME).is_file() else src


def _detect(src: Path) -> bool:
    import pyarrow.parquet as pq

    path = _file(src)
    if not path.is_file():
        return False
    if path.suffix.lower() == ".tsv":
        return BOXES_COLUMN in tsv_header(path)
    if path.suffix.lower() == ".parquet":
        try:
            return BOXES_COLUMN in pq.read_schema(path).names
        except Exception:
            return False
    return False


def _item(row: dict[str, Any], item_id: str, benchmark: str, where: str) -> EvalItem:
    try:
        data = image_cell_bytes(row.get("image"))
        options = row_options(row) or []
        boxes = parse_boxes(row.get(BOXES_COLUMN), BOXES_COLUMN)
        answer = label_letter(optional_str(row.get("answer")) or "", len(options))
    except (FieldError, ChoiceError, binascii.Error) as exc:
        raise EvalDataError(f"{where}: {exc}") from exc
    return EvalItem(
        item_id=item_id,
        benchmark=benchmark,
        question=str(row.get("question") or ""),
        answer=answer,
        options=tuple(options),
        load_image=image_from_bytes(data),
        category=str(row.get("category") or "all"),
        metadata={"protocol": "treebench: published option order"},
        boxes=tuple(Box.from_xyxy(b) for b in boxes),
    )


@register_adapter(
    "treebench",
    detect=_detect,
    description="TreeBench.tsv (base64 images, options, target_instances xyxy boxes) or a Parquet conversion",
)
def read_treebench(
    src: Path, *, benchmark: str, image_root: Path | None = None
) -> Iterator[EvalItem | Skipped]:
    path = _file(src)
    rows = iter_csv(path, delimiter="\t") if path.suffix.lower() == ".tsv" else iter_parquet(path)
    yield from items_from_rows(
        rows,
        benchmark,
        lambda row, where, _: str(row.get("index", where)),
        lambda row, item_id, where: _item(row, item_id, benchmark, where),
    )
