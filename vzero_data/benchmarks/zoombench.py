"""ZoomBench (845 questions, six fine-grained perception dimensions), as its publishers ship it: a
Hugging Face data set whose ``data/test.parquet`` holds per row the full ``image`` and the
``crop_image`` of the region holding the evidence (``{"bytes", "path"}`` structs; ``crop_image``
may be empty), with the question and the answer.

The two publishers' scripts disagree on the column names: the ZoomBench authors' conversion
(Zooming-without-Zooming, ``utils/convert_benchmark.py``) reads ``prompt`` and ``answer``;
Vision-OPD's (``eval/prepare_data.py``) reads ``id``, ``query`` and ``response``. Both are read. A
multiple-choice question carries its options in the text ("... Select from the following
choices.\\n(A) 0\\n(B) 2") and a letter as answer; an open question a short text answer. The crop
is kept for the zooming-gap evaluation (``vzero-train eval --zoom-gap``): ZoomBench ships no box.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_core.choices import ChoiceError, label_letter, split_lettered
from vzero_core.rows import iter_parquet
from vzero_data.benchmarks import register_adapter
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped, image_from_bytes, items_from_rows

QUESTION_KEYS = ("query", "prompt")
ANSWER_KEYS = ("response", "answer")


def _parquet(src: Path) -> Path | None:
    if src.is_file():
        return src if src.suffix.lower() == ".parquet" else None
    for candidate in (src / "data" / "test.parquet", src / "test.parquet"):
        if candidate.is_file():
            return candidate
    return None


def _detect(src: Path) -> bool:
    import pyarrow.parquet as pq

    path = _parquet(src)
    if path is None:
        return False
    try:
        names = set(pq.read_schema(path).names)
    except Exception:
        return False
    return "crop_image" in names and "image" in names


def _first(row: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        if row.get(key) not in (None, ""):
            return str(row[key]).strip()
    return ""


def _bytes(value: Any) -> bytes | None:
    if isinstance(value, dict):
        value = value.get("bytes")
    return bytes(value) if isinstance(value, (bytes, bytearray)) and value else None


def _item(row: dict[str, Any], item_id: str, benchmark: str, where: str) -> EvalItem:
    text, answer = _first(row, QUESTION_KEYS), _first(row, ANSWER_KEYS)
    if not text:
        raise EvalDataError(f"{where}: no question ('query' or 'prompt')")
    if not answer:
        raise EvalDataError(f"{where}: no answer ('response' or 'answer')")
    image = _bytes(row.get("image"))
    if image is None:
        raise EvalDataError(f"{where}: 'image' holds no bytes")
    crop = _bytes(row.get("crop_image"))
    lettered = split_lettered(text)
    question, options = (lettered.question, lettered.options) if lettered else (text, ())
    if options:
        try:
            answer = label_letter(answer, len(options))
        except ChoiceError as exc:
            raise EvalDataError(f"{where}: {exc}") from exc
    return EvalItem(
        item_id=item_id,
        benchmark=benchmark,
        question=question,
        answer=answer,
        options=options,
        load_image=image_from_bytes(image),
        load_crop=image_from_bytes(crop) if crop else None,
        category=str(row.get("category") or ("multiple choice" if options else "open")),
        metadata={"protocol": "zoombench"},
    )


@register_adapter(
    "zoombench",
    detect=_detect,
    description="ZoomBench: the data set folder (data/test.parquet) or the Parquet file; full image and crop",
)
def read_zoombench(
    src: Path, *, benchmark: str, image_root: Path | None = None
) -> Iterator[EvalItem | Skipped]:
    path = _parquet(src)
    if path is None:
        raise EvalDataError(f"{src}: not a ZoomBench folder (no data/test.parquet)")
    yield from items_from_rows(
        iter_parquet(path),
        benchmark,
        lambda row, _, n: str(row.get("id") if row.get("id") not in (None, "") else n),
        lambda row, item_id, where: _item(row, item_id, benchmark, where),
    )
