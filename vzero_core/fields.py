"""Parsers for the loosely typed fields found in source files: boxes, options, JSON-in-text."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Sequence
from typing import Any

from vzero_core.box_formats import box_from_xywh
from vzero_core.boxes import Box
from vzero_core.choices import split_lettered, strip_labels


class FieldError(ValueError):
    """A field with a value that cannot be interpreted; the message names the field."""


def maybe_json(value: Any) -> Any:
    """Decode a list or object written as text (CSV cells, Parquet text columns): JSON, or the
    Python literal pandas writes for a list cell (``['rubber', 'cotton']``), read with
    ``ast.literal_eval`` (literals only, never code). Other values pass through."""
    if isinstance(value, str):
        text = value.strip()
        if text[:1] and text[:1] in "[{":
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                try:
                    return ast.literal_eval(text)
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    raise FieldError(
                        f"not valid JSON or a Python literal ({exc.msg}): {text[:80]!r}"
                    ) from exc
    return value


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_boxes(
    value: Any, name: str, convert: Callable[[Sequence[float]], Box] = Box.from_xyxy
) -> list[list[float]]:
    """One box (4 numbers) or a list of boxes, in the convention ``convert`` reads, to xyxy lists."""
    value = maybe_json(value)
    if value is None or (hasattr(value, "__len__") and len(value) == 0):
        return []
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise FieldError(f"{name}: expected 4 numbers or a list of boxes, got {value!r}")
    boxes = [value] if all(_is_number(v) for v in value) else list(value)
    out = []
    for i, b in enumerate(boxes):
        b = b.tolist() if hasattr(b, "tolist") else b
        if not isinstance(b, (list, tuple)) or len(b) != 4 or not all(_is_number(v) for v in b):
            raise FieldError(f"{name}[{i}]: expected 4 numbers, got {b!r}")
        try:
            out.append(convert(b).to_list())
        except ValueError as exc:
            raise FieldError(f"{name}[{i}]: {exc}") from exc
    return out


def parse_xywh_boxes(value: Any, name: str) -> list[list[float]]:
    return parse_boxes(value, name, box_from_xywh)


def parse_options(value: Any, name: str = "options") -> list[str] | None:
    """A list of strings, a JSON list or Python list literal in text, "(A) ..." options written in
    text, or text with one option per line or ``|``-separated. Letter labels that every option
    carries in order ("A. red", "(B) blue") are dropped: the letters are added back when shown."""
    value = maybe_json(value)
    if value is None:
        return None
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, str):
        lettered = split_lettered(value)
        if lettered is not None:
            return list(lettered.options)
        sep = "\n" if "\n" in value else "|"
        parts = [p.strip() for p in value.split(sep) if p.strip()]
        return strip_labels(parts) or None
    if isinstance(value, (list, tuple)):
        return strip_labels([str(v) for v in value])
    raise FieldError(f"{name}: expected a list of strings, got {type(value).__name__}")


def optional_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN from pandas/CSV
        return None
    return str(value)


def option_answer(value: Any, options: Sequence[str] | None, name: str = "answer") -> str | None:
    """A letter answer (``"B"``, ``"(B)"``) as its option's text, so stored answers do not depend
    on option order; an answer already one of the options is kept; without options, the text."""
    from vzero_core.choices import LETTERS, ChoiceError, label_letter

    answer = optional_str(value)
    if answer is None or not options:
        return answer
    try:
        return options[LETTERS.index(label_letter(answer, len(options)))]
    except ChoiceError:
        if answer.strip() in options:
            return answer.strip()
        raise FieldError(f"{name}: {answer!r} is neither an option letter nor one of the options") from None
