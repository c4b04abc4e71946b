"""Turn pydantic validation errors into one located line per problem.

``recipe.yaml: negatives[2].params.k: expected an integer >= 2, got 'x'`` tells a data engineer which
field of which file is wrong and what would be right, without a pydantic traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

_TYPE_WORDS = {
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "list": "a list",
    "dict": "a mapping",
    "model": "a mapping",
}

# pydantic error type -> the type word used when the field's annotation is not found.
_ERROR_TYPE_WORDS = {
    "int_parsing": "int",
    "int_type": "int",
    "int_from_float": "int",
    "float_parsing": "float",
    "float_type": "float",
    "bool_parsing": "bool",
    "bool_type": "bool",
    "string_type": "str",
    "list_type": "list",
    "dict_type": "dict",
    "model_type": "model",
    "model_attributes_type": "model",
}

_CONSTRAINT_OPS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def format_loc(loc: Sequence[str | int]) -> str:
    """``("negatives", 2, "params", "k")`` -> ``negatives[2].params.k``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<top level>"


def _field_for(model: type[BaseModel], loc: Sequence[str | int]) -> FieldInfo | None:
    """The ``FieldInfo`` that ``loc`` ends at, following nested models and lists of models."""
    current: Any = model
    info: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _inner_model(info.annotation)
    return info


def _inner_model(annotation: Any) -> Any:
    """The model class inside ``Model``, ``list[Model]`` or ``Model | None``, else the annotation."""
    args = getattr(annotation, "__args__", None)
    if args:
        for arg in args:
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return annotation


def _type_name(info: FieldInfo | None) -> str | None:
    if info is None:
        return None
    annotation = info.annotation
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        name = getattr(candidate, "__name__", None)
        if name in ("int", "float", "bool", "str"):
            return name
    return None


def _constraints(info: FieldInfo | None) -> list[str]:
    if info is None:
        return []
    out = []
    for meta in info.metadata:
        for attr, op in _CONSTRAINT_OPS:
            value = getattr(meta, attr, None)
            if value is not None:
                out.append(f"{op} {value}")
    return out


def _expected(error: dict[str, Any], info: FieldInfo | None) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind in ("literal_error", "enum"):
        return f"expected {ctx.get('expected', 'one of the allowed values')}"
    if kind in _ERROR_TYPE_WORDS or kind.startswith(("greater_than", "less_than")):
        type_key = _type_name(info) or _ERROR_TYPE_WORDS.get(kind, "")
        bounds = _constraints(info) or [f"{op} {ctx[attr]}" for attr, op in _CONSTRAINT_OPS if attr in ctx]
        return f"expected {_TYPE_WORDS.get(type_key, 'a value')}" + (
            f" {' and '.join(bounds)}" if bounds else ""
        )
    msg = str(error.get("msg", "invalid value"))
    # Custom validators raise ValueError("..."): pydantic prefixes "Value error, ".
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg[:1].lower() + msg[1:]


def _allowed_fields(model: type[BaseModel], loc: Sequence[str | int]) -> list[str] | None:
    parent = _field_for(model, loc[:-1]) if len(loc) > 1 else None
    target = _inner_model(parent.annotation) if parent is not None else model
    if isinstance(target, type) and issubclass(target, BaseModel):
        return list(target.model_fields)
    return None


def describe_errors(
    exc: ValidationError, model: type[BaseModel], where: str, prefix: Sequence[str | int] = ()
) -> list[str]:
    """One ``where: path: expected ..., got ...`` line per error in ``exc``."""
    lines = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        info = _field_for(model, loc)
        expected = _expected(error, info)
        if error["type"] == "extra_forbidden":
            allowed = _allowed_fields(model, loc)
            if allowed:
                expected += f" (allowed: {', '.join(allowed)})"
        line = f"{where}: {format_loc((*prefix, *loc))}: {expected}"
        shows_input = error["type"] not in ("missing", "extra_forbidden")
        if shows_input and "input" in error and not isinstance(error["input"], dict):
            line += f", got {error['input']!r}"
        lines.append(line)
    return lines


def join_errors(lines: Iterable[str]) -> str:
    lines = list(lines)
    if len(lines) == 1:
        return lines[0]
    return f"{len(lines)} problems:\n  " + "\n  ".join(lines)
