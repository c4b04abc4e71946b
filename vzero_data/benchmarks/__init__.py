"""Benchmark readers: one module per published layout, registered by name.

Evaluation (``vzero-train eval``) reads benchmarks through these, and so can curation-side tools
(checking a training set against a benchmark); they live here, with the other readers of
published files, so both halves can use them.

An adapter reads a benchmark source (file or folder) and yields :class:`EvalItem` objects, or
:class:`Skipped` records for entries it cannot use (with the reason). A whole source it cannot read
raises :class:`EvalDataError`. To add a layout, write a module here with a function decorated by
``@register_adapter(name, detect=..., description=...)`` and add the module to ``BUILTIN_MODULES``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from vzero_core.uris import is_uri
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped

BUILTIN_MODULES = (
    "store",
    "zoombench",
    "visualprobe",
    "treebench",
    "vstar",
    "hrbench",
    "mme_realworld",
    "synthetic",
)

Reader = Callable[..., Iterator[EvalItem | Skipped]]


@dataclass(frozen=True)
class Adapter:
    name: str
    description: str
    read: Reader
    detect: Callable[[Path], bool]


_REGISTRY: dict[str, Adapter] = {}


def register_adapter(
    name: str, *, detect: Callable[[Path], bool], description: str
) -> Callable[[Reader], Reader]:
    """Register ``read(src: Path, *, benchmark: str, image_root: Path | None)`` under ``name``."""

    def decorate(read: Reader) -> Reader:
        if name in _REGISTRY and _REGISTRY[name].read is not read:
            raise ValueError(f"benchmark adapter {name!r} is already registered")
        _REGISTRY[name] = Adapter(name, description, read, detect)
        return read

    return decorate


def adapters() -> dict[str, Adapter]:
    """All registered adapters in detection order: the built-in ones first, then plugins as registered."""
    builtin = [f"{__name__}.{module}" for module in BUILTIN_MODULES]
    for module in builtin:
        importlib.import_module(module)

    def rank(adapter: Adapter) -> int:
        module = adapter.read.__module__
        return builtin.index(module) if module in builtin else len(builtin)

    return {a.name: a for a in sorted(_REGISTRY.values(), key=rank)}


def get_adapter(name: str) -> Adapter:
    known = adapters()
    if name not in known:
        from vzero_core.names import unknown_name

        raise EvalDataError(unknown_name("benchmark format", name, known))
    return known[name]


def detect_format(src: str | os.PathLike[str]) -> str:
    """The name of the first adapter that recognizes ``src``; a URI is a published store."""
    if is_uri(str(src)):
        return "store"
    path = Path(src)
    if not path.exists():
        raise EvalDataError(f"benchmark source not found: {path}")
    for adapter in adapters().values():
        if adapter.detect(path):
            return adapter.name
    raise EvalDataError(
        f"{path}: cannot tell its benchmark format; pass --format (one of {', '.join(adapters())})"
    )


@dataclass(frozen=True)
class Benchmark:
    """A benchmark source with its format and display name; ``items()`` streams it afresh each call."""

    name: str
    format: str
    src: Path | str  # a URI stays a string (a published store)
    image_root: Path | None = None

    def items(self) -> Iterator[EvalItem | Skipped]:
        return get_adapter(self.format).read(self.src, benchmark=self.name, image_root=self.image_root)


def open_benchmark(
    src: str | os.PathLike[str],
    format: str | None = None,
    *,
    name: str | None = None,
    image_root: str | os.PathLike[str] | None = None,
) -> Benchmark:
    """A :class:`Benchmark` for ``src``; the format is detected unless given, the name defaults to
    the file or folder name without its suffix. A URI (``s3://bucket/store``) names a published
    store (format ``store``)."""
    if is_uri(str(src)):
        fmt = format or "store"
        if fmt != "store":
            raise EvalDataError(f"{src}: a URI is read as a published store (--format store), not {fmt!r}")
        return Benchmark(name or str(src).rstrip("/").rsplit("/", 1)[-1], fmt, str(src), None)
    path = Path(src)
    if not path.exists():
        raise EvalDataError(f"benchmark source not found: {path}")
    fmt = format or detect_format(path)
    get_adapter(fmt)
    stem = path.parent.name if path.name == "manifest.jsonl" else path.stem
    return Benchmark(name or stem, fmt, path, Path(image_root) if image_root else None)
