"""HR-Bench 4K / 8K: a TSV with the image inline as base64.

Columns: ``index``, ``image`` (base64), ``question``, ``A``..``D``, ``answer`` (a letter),
``category`` (FSP single-instance / FCP cross-instance) and ``cycle_category``. Rows stream one at a
time and images decode only when evaluated: an 8K TSV is gigabytes.
"""

from __future__ import annotations

import base64
import binascii
import csv
from collections.abc import Iterator
from pathlib import Path

from vzero_train.evaluate.adapters import register_adapter
from vzero_train.evaluate.items import EvalDataError, EvalItem, Skipped, image_from_bytes

OPTION_COLUMNS = ("A", "B", "C", "D")
REQUIRED = ("index", "image", "question", "answer", "A", "B")


def _detect(src: Path) -> bool:
    return src.is_file() and src.suffix.lower() == ".tsv"


@register_adapter("hrbench", detect=_detect, description="HR-Bench TSV (base64 images, options A-D)")
def read_hrbench(
    src: Path, *, benchmark: str, image_root: Path | None = None
) -> Iterator[EvalItem | Skipped]:
    csv.field_size_limit(2**31 - 1)  # base64 images exceed csv's 128 KiB default field limit
    with open(src, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise EvalDataError(
                f"{src}: not an HR-Bench TSV, missing columns {missing} (has {reader.fieldnames})"
            )
        for row_no, row in enumerate(reader, start=2):
            item_id = row.get("index") or f"row-{row_no}"
            try:
                yield _item(row, item_id, benchmark, f"{src}:{row_no}")
            except EvalDataError as exc:
                yield Skipped(item_id, benchmark, str(exc))


def _item(row: dict[str, str], item_id: str, benchmark: str, where: str) -> EvalItem:
    options = []
    for column in OPTION_COLUMNS:
        text = (row.get(column) or "").strip()
        if not text or text.lower() == "nan":
            break
        options.append(text)
    try:
        image = base64.b64decode(row["image"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise EvalDataError(f"{where}: column 'image' is not valid base64 ({exc})") from exc
    answer = (row.get("answer") or "").strip().upper()
    if not row.get("question", "").strip():
        raise EvalDataError(f"{where}: empty question")
    return EvalItem(
        item_id=item_id,
        benchmark=benchmark,
        question=row["question"].strip(),
        answer=answer,
        options=tuple(options),
        load_image=image_from_bytes(image),
        category=(row.get("category") or "all").strip(),
        metadata={"cycle_category": row.get("cycle_category", "")},
    )
