"""What both halves of a recipe share: the error type, the strict section base, and the one
``--set KEY=VALUE`` override parser used by ``vzero-data curate`` and ``vzero-train train``.

One rule for the keys: a key is the field's full path in the recipe file (``execution.workers``,
``train.optim.lr``). A command that reads one section (``vzero-train train`` reads ``train:``) also
takes the path inside that section (``optim.lr``): :func:`scoped_overrides` strips the section name.

Override values are YAML, with one fix: YAML 1.1 (PyYAML) reads exponent floats without a dot,
such as ``2e-6``, as strings; here they are numbers, as anyone typing ``--set optim.lr=2e-6`` means.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

_EXPONENT_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


class RecipeError(ValueError):
    """A recipe that cannot be read, overridden or validated; the message names the file and field."""


class Section(BaseModel):
    """A recipe section: unknown keys are errors (a typo fails at load time), values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_value(raw: str) -> Any:
    """A command-line value as YAML (``4`` -> 4, ``[a, b]`` -> list, ``2e-6`` -> 2e-06); empty -> ``""``."""
    if not raw.strip():
        return ""
    try:
        value = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise RecipeError(
            f"value {raw!r} is not valid YAML: {getattr(exc, 'problem', None) or exc}"
        ) from None
    if isinstance(value, str) and _EXPONENT_FLOAT.fullmatch(value.strip()):
        return float(value)
    return value


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"execution.workers=4"`` -> ``(["execution", "workers"], 4)``."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise RecipeError(f"override {text!r}: expected KEY.PATH=VALUE, e.g. execution.workers=4")
    path = key.strip().split(".")
    if any(not part for part in path):
        raise RecipeError(f"override {text!r}: empty part in the key {key.strip()!r}")
    try:
        return path, parse_value(raw)
    except RecipeError as exc:
        raise RecipeError(f"override {text!r}: {exc}") from None


def apply_overrides(
    data: Mapping[str, Any], overrides: Sequence[str] | Mapping[str, Any] | Iterable[tuple[str, Any]]
) -> dict[str, Any]:
    """A copy of ``data`` with each override set, in order, creating mappings on the way. An override
    is a ``KEY.PATH=VALUE`` string (the value parsed as YAML) or a ``(dotted key, value)`` pair whose
    value is already typed; a mapping gives such pairs."""
    out: dict[str, Any] = _deep_copy(data)
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    pairs = []
    for item in items:
        if isinstance(item, str):
            pairs.append((*parse_override(item), item))
        else:
            key, value = item
            pairs.append((key.split("."), value, f"{key}={value!r}"))
    for path, value, text in pairs:
        node = out
        for i, part in enumerate(path[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise RecipeError(f"override {text}: {'.'.join(path[: i + 1])} is not a mapping")
            node = child
        node[path[-1]] = value
    return out


def _deep_copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_deep_copy(v) for v in value]
    return value


def scoped_overrides(
    overrides: Sequence[str] | Mapping[str, Any] | Iterable[tuple[str, Any]],
    section: str,
    fields: Iterable[str],
) -> list[tuple[str, Any]]:
    """``overrides`` for one recipe ``section`` as ``(key inside the section, value)`` pairs: a
    full recipe path (``train.optim.lr=1e-6``) loses its section name, a path inside the section
    (``optim.lr=1e-6``, its first part one of ``fields``) stays. Any other key is a
    :class:`RecipeError` that says both forms."""
    known = set(fields)
    items = overrides.items() if isinstance(overrides, Mapping) else overrides
    out: list[tuple[str, Any]] = []
    for item in items:
        if isinstance(item, str):
            path, value = parse_override(item)
            text = item
        else:
            path, value = item[0].split("."), item[1]
            text = f"{item[0]}={item[1]!r}"
        if path[0] == section and len(path) > 1 and path[0] not in known:
            path = path[1:]
        elif path[0] not in known:
            raise RecipeError(
                f"override {text}: {'.'.join(path)} is not in the {section}: section; a key is the "
                f"field's path in the recipe, e.g. {section}.{_example(known)} (or {_example(known)})"
            )
        out.append((".".join(path), value))
    return out


def _example(fields: set[str]) -> str:
    return "steps" if "steps" in fields else min(fields, default="FIELD")
