"""Generic rows (JSONL, CSV, Parquet, HF datasets) with vzero's documented fields.

Fields: ``image`` (path relative to the image root, or an embedded image ``{"bytes": ...}``),
``question``, optional ``answer``, ``options``, ``target`` (phrase), ``bbox`` (xyxy pixels, one box or a
list) or ``bbox_xywh``, ``id``, ``width``/``height`` (checked against the image if given),
``source``. Every other field is kept as metadata. ``field_map`` renames: ``{"question": "prompt"}``.

Hugging Face re-hosts of benchmarks (e.g. V* as ``image, text, label, category, question_id``) put
the options inside the question text as "(A) ..." lines and give a bare letter label: such rows
are split into question, options and answer (the labelled option's text) by
:func:`vzero_core.choices.split_lettered`; the instruction after the options is kept as metadata.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping
from typing import Any

from vzero_core.choices import LETTERS, ChoiceError, label_letter, split_lettered
from vzero_core.fields import FieldError, optional_str, parse_boxes, parse_options, parse_xywh_boxes
from vzero_core.rows import Rejected
from vzero_data.sources.base import RawItem, SourceOptions

KNOWN_FIELDS = (
    "image",
    "question",
    "answer",
    "options",
    "target",
    "bbox",
    "bbox_xywh",
    "id",
    "width",
    "height",
    "source",
)


def _image_ref(value: Any) -> tuple[str | None, bytes | None]:
    """A path string, raw bytes, a ``{"bytes", "path"}`` dict (HF Image feature) or a PIL image."""
    if value is None:
        return None, None
    if isinstance(value, str):
        return value, None
    if isinstance(value, (bytes, bytearray)):
        return None, bytes(value)
    if isinstance(value, Mapping):
        if value.get("bytes"):
            return value.get("path"), bytes(value["bytes"])
        return value.get("path"), None
    if hasattr(value, "save"):  # a decoded PIL image (HF datasets with decode=True)
        from vzero_core.image_io import encode_image

        return None, encode_image(value, "png")
    raise FieldError(f"image: unsupported value of type {type(value).__name__}")


def _int_or_none(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise FieldError(f"{name}: expected an integer, got {value!r}") from exc


def generic_item(
    where: str, row: Mapping[str, Any], options: SourceOptions, default_source: str
) -> RawItem | Rejected:
    """Map one generic row to a raw item (a field-level problem becomes a located rejection)."""
    fm = options.field_map

    def get(name: str) -> Any:
        return row.get(fm.get(name, name))

    used = {fm.get(n, n) for n in KNOWN_FIELDS}
    source_id = optional_str(get("id"))
    if source_id is None and row.get("question_id") is not None:  # Hugging Face re-hosts
        source_id, used = optional_str(row["question_id"]), used | {"question_id"}
    try:
        image_path, image_bytes = _image_ref(get("image"))
        if image_path is None and image_bytes is None:
            raise FieldError("image: missing")
        if get("bbox") is not None and get("bbox_xywh") is not None:
            raise FieldError("give either bbox (xyxy) or bbox_xywh, not both")
        boxes = (
            parse_boxes(get("bbox"), "bbox")
            if get("bbox") is not None
            else parse_xywh_boxes(get("bbox_xywh"), "bbox_xywh")
        )
        width, height = _int_or_none(get("width"), "width"), _int_or_none(get("height"), "height")
        question, item_options, answer, extra_used, extra_meta = _question_fields(row, get)
        used |= extra_used
    except FieldError as exc:
        return Rejected(source_id or where, "bad_field", f"{where}: {exc}")
    return RawItem(
        where=where,
        question=question,
        image_path=image_path if image_bytes is None else None,
        image_bytes=image_bytes,
        answer=answer,
        options=item_options,
        target=optional_str(get("target")),
        boxes_xyxy=boxes,
        source=optional_str(get("source")) or default_source,
        source_id=source_id,
        declared_size=(width, height) if width and height else None,
        metadata={**{k: _jsonable(v) for k, v in row.items() if k not in used}, **extra_meta},
    )


def _question_fields(row: Mapping[str, Any], get: Any) -> tuple[Any, list[str] | None, str | None, set, dict]:
    """Question, options and answer, also from the Hugging Face re-host form: no ``question`` but a
    ``text`` holding the question and "(A) ..." option lines, and a bare letter ``label``."""
    used: set[str] = set()
    meta: dict[str, Any] = {}
    question = get("question")
    if question is None and row.get("text") is not None:
        question, used = row["text"], used | {"text"}
    item_options = parse_options(get("options"))
    if item_options is None and isinstance(question, str):
        lettered = split_lettered(question)
        if lettered is not None:
            question, item_options = lettered.question, list(lettered.options)
            if lettered.instruction:
                meta["instruction"] = lettered.instruction
    answer = optional_str(get("answer"))
    label = row.get("label")
    if answer is None and label is not None and item_options:
        try:
            answer = item_options[LETTERS.index(label_letter(label, len(item_options)))]
        except ChoiceError as exc:
            raise FieldError(f"label: {exc}") from exc
        used.add("label")
        meta["label"] = _jsonable(label)
    return question, item_options, answer, used, meta


def _jsonable(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def generic_items(
    rows: Iterator[tuple[str, dict[str, Any]] | Rejected], options: SourceOptions, default_source: str
) -> Iterator[RawItem | Rejected]:
    for entry in rows:
        yield (
            entry
            if isinstance(entry, Rejected)
            else generic_item(entry[0], entry[1], options, default_source)
        )
