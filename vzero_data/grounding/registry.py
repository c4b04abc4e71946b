"""Grounders by name. A plugin is one module with a class (``name``, ``Options``, ``locate``),
registered with :func:`register_grounder`; recipes then name it like a built-in.

Built-ins are imported lazily, so listing or validating names never loads torch.
"""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import ValidationError

from vzero_core.names import unknown_name

GROUNDERS: dict[str, str] = {
    "annotated": "vzero_data.grounding.backends.annotated:AnnotatedGrounder",
    "grounding-dino": "vzero_data.grounding.backends.grounding_dino:GroundingDinoGrounder",
    "owlv2": "vzero_data.grounding.backends.owlv2:Owlv2Grounder",
    "qwen-vl": "vzero_data.grounding.backends.qwen_vl:QwenVLGrounder",
    "groundingdino-py": "vzero_data.grounding.backends.groundingdino_py:GroundingDinoPyGrounder",
}


class UnknownGrounderError(ValueError):
    """A grounder name that is not registered."""


def register_grounder(name: str, target: str | type) -> None:
    """Register a grounder class (or its ``"module:Class"`` path) under ``name``."""
    if name in GROUNDERS and GROUNDERS[name] != target:
        raise ValueError(f"grounder {name!r} is already registered ({GROUNDERS[name]})")
    GROUNDERS[name] = target  # type: ignore[assignment]


def grounder_class(name: str) -> type:
    """The class registered as ``name``; unknown names list the registered ones."""
    if name not in GROUNDERS:
        raise UnknownGrounderError(unknown_name("grounder", name, GROUNDERS))
    target: Any = GROUNDERS[name]
    if isinstance(target, str):
        module_path, _, class_name = target.partition(":")
        target = getattr(importlib.import_module(module_path), class_name)
    return target


def get_grounder(name: str, **options: Any) -> Any:
    """Build the grounder ``name`` with ``options`` validated by its ``Options`` model.

    Invalid options raise ``ValueError`` naming the grounder and the offending fields.
    """
    cls = grounder_class(name)
    try:
        validated = cls.Options(**options)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '<options>'}: {e['msg']}" for e in exc.errors()
        )
        raise ValueError(f"invalid options for grounder {name!r}: {problems}") from exc
    return cls(validated)
