"""MME-RealWorld, in the forms its publishers ship.

``MME_RealWorld.json``: a list with ``Question_id``, ``Image`` (path, relative to ``--image-root``
or else to the JSON's folder), ``Text`` (the question), ``Answer choices`` (``"(A) 12"`` strings),
``Ground truth`` (a letter A-E), ``Task``, ``Subtask``, ``Category`` and the question type, spelled
both ``Question Type`` and ``Question type``. The category reported is ``Task/Subtask``.

The official Base64 distribution (JSON lists, or a TSV as the Lite file): ``index``, ``image``
(base64), ``question``, ``multi-choice options`` (a list of ``"(A) ..."`` strings, or its Python
literal in a TSV cell), ``answer`` (a letter), ``category`` (``Perception/Monitoring``) and
``l2-category``. lmms-eval's copy (Parquet) names the image column ``bytes``. The category
reported is ``category``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_core.choices import ChoiceError, label_letter
from vzero_core.fields import FieldError, parse_options
from vzero_core.rows import SourceError, iter_csv, iter_parquet, read_json_file
from vzero_data.benchmarks import register_adapter
from vzero_data.benchmarks.hrbench import tsv_header
from vzero_data.benchmarks.items import (
    EvalDataError,
    EvalItem,
    Skipped,
    image_from_bytes,
    image_from_file,
    items_from_rows,
)

_CHOICE_PREFIX = re.compile(r"^\s*\(?([A-Ea-e])\)\s*[.:]?\s*")
REQUIRED = ("Question_id", "Image", "Text", "Answer choices", "Ground truth")
BASE64_REQUIRED = ("index", "question", "multi-choice options", "answer")
QUESTION_TYPE_KEYS = ("Question Type", "Question type")


def _parquet_columns(src: Path) -> list[str]:
    import pyarrow.parquet as pq

    try:
        return pq.read_schema(src).names
    except Exception:
        return []


def _detect(src: Path) -> bool:
    if not src.is_file():
        return False
    suffix = src.suffix.lower()
    if suffix == ".json":
        return True
    if suffix == ".tsv":
        return "l2-category" in tsv_header(src)
    return suffix == ".parquet" and "l2-category" in _parquet_columns(src)


def strip_choice_prefix(choice: str) -> str:
    """``"(A) 12"`` -> ``"12"``: the letters are added back when the options are shown."""
    return _CHOICE_PREFIX.sub("", choice, count=1).strip()


@register_adapter(
    "mme_realworld",
    detect=_detect,
    description="MME-RealWorld JSON (image paths) or the Base64 distribution (JSON, TSV, Parquet; image or bytes)",
)
def read_mme_realworld(
    src: Path, *, benchmark: str, image_root: Path | None = None
) -> Iterator[EvalItem | Skipped]:
    suffix = src.suffix.lower()
    try:
        if suffix == ".json":
            yield from _json_items(src, benchmark, image_root)
            return
        rows = iter_csv(src, delimiter="\t") if suffix == ".tsv" else iter_parquet(src)
        yield from items_from_rows(
            rows,
            benchmark,
            lambda row, where, _: str(row.get("index", where)),
            lambda row, item_id, where: _base64_item(row, item_id, benchmark, where),
        )
    except SourceError as exc:
        raise EvalDataError(str(exc)) from exc


def _lite_shards(src: Path) -> list[Path]:
    data = src / "data" if (src / "data").is_dir() else src
    return sorted(data.glob("*.parquet")) if src.is_dir() else []


def _detect_lite(src: Path) -> bool:
    shards = _lite_shards(src)
    return bool(shards) and "multi-choice options" in _parquet_columns(shards[0])


@register_adapter(
    "mme_realworld_lite",
    detect=_detect_lite,
    description="MME-RealWorld-Lite as lmms-eval loads it: the data set folder, Parquet shards under data/",
)
def read_mme_realworld_lite(
    src: Path, *, benchmark: str, image_root: Path | None = None
) -> Iterator[EvalItem | Skipped]:
    """The Lite data set (``yifanzhang114/MME-RealWorld-lite-lmms-eval``): its ``data/*.parquet``
    shards, each in lmms-eval's Base64 layout (``bytes``, ``index``, ``question``, ``multi-choice
    options``, ``answer``, ``category``, ``l2-category``)."""
    shards = _lite_shards(src)
    if not shards:
        raise EvalDataError(f"{src}: no Parquet shards (expected data/*.parquet of MME-RealWorld-Lite)")
    for shard in shards:
        yield from read_mme_realworld(shard, benchmark=benchmark, image_root=image_root)


def _json_items(src: Path, benchmark: str, image_root: Path | None) -> Iterator[EvalItem | Skipped]:
    try:
        rows = read_json_file(src)
    except json.JSONDecodeError as exc:
        raise EvalDataError(f"{src}: malformed JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(rows, list):
        raise EvalDataError(f"{src}: expected a JSON list of questions, got {type(rows).__name__}")
    root = image_root or src.parent
    for i, row in enumerate(rows):
        where = f"{src}[{i}]"
        is_base64 = isinstance(row, dict) and "Question_id" not in row and "index" in row
        key = "index" if is_base64 else "Question_id"
        item_id = str(row.get(key, f"entry-{i}")) if isinstance(row, dict) else f"entry-{i}"
        try:
            yield (
                _base64_item(row, item_id, benchmark, where)
                if is_base64
                else _item(row, item_id, benchmark, root, where)
            )
        except EvalDataError as exc:
            yield Skipped(item_id, benchmark, str(exc))


def _letter(value: Any, n: int, where: str) -> str:
    try:
        return label_letter(value, n)
    except ChoiceError as exc:
        raise EvalDataError(f"{where}: answer: {exc}") from exc


def _item(row: Any, item_id: str, benchmark: str, root: Path, where: str) -> EvalItem:
    if not isinstance(row, dict):
        raise EvalDataError(f"{where}: expected an object, got {type(row).__name__}")
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise EvalDataError(f"{where}: missing fields {missing}")
    choices = row["Answer choices"]
    if not isinstance(choices, list) or len(choices) < 2:
        raise EvalDataError(f"{where}: 'Answer choices' must be a list of at least 2 choices")
    options = tuple(strip_choice_prefix(str(c)) for c in choices)
    task, subtask = row.get("Task", ""), row.get("Subtask", "")
    question_type = next((row[k] for k in QUESTION_TYPE_KEYS if k in row), "")
    return EvalItem(
        item_id=item_id,
        benchmark=benchmark,
        question=str(row["Text"]),
        answer=_letter(row["Ground truth"], len(options), where),
        options=options,
        load_image=image_from_file(root / row["Image"]),
        category="/".join(p for p in (task, subtask) if p) or "all",
        metadata={"Category": row.get("Category", ""), "question_type": question_type},
    )


def _base64_item(row: Any, item_id: str, benchmark: str, where: str) -> EvalItem:
    if not isinstance(row, dict):
        raise EvalDataError(f"{where}: expected an object, got {type(row).__name__}")
    missing = [k for k in BASE64_REQUIRED if row.get(k) is None]
    image = row.get("image") if row.get("image") is not None else row.get("bytes")
    if image is None:
        missing.append("image (or bytes)")
    if missing:
        raise EvalDataError(f"{where}: missing fields {missing}")
    try:
        options = parse_options(row["multi-choice options"], "multi-choice options") or []
        data = image if isinstance(image, bytes) else base64.b64decode(str(image), validate=True)
    except FieldError as exc:
        raise EvalDataError(f"{where}: {exc}") from exc
    except (binascii.Error, ValueError) as exc:
        raise EvalDataError(f"{where}: the image is not valid base64 ({exc})") from exc
    if len(options) < 2:
        raise EvalDataError(f"{where}: 'multi-choice options' must hold at least 2 choices")
    return EvalItem(
        item_id=item_id,
        benchmark=benchmark,
        question=str(row["question"]),
        answer=_letter(row["answer"], len(options), where),
        options=tuple(options),
        load_image=image_from_bytes(data),
        category=str(row.get("category") or "all"),
        metadata={"l2-category": row.get("l2-category", "")},
    )
