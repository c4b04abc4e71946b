"""The recipes that ship with vzero: YAML files in the repository's ``recipes/`` folder (installed
as the ``vzero_recipes`` package, so they travel with a wheel), each starting with the command that
runs it. A command that takes a recipe takes a file path or one of these names (``demo``,
``groundingdino_vstar``, ...), so ``vzero-data curate demo`` works from any folder;
``vzero-data recipes`` lists them and copies one out to edit.
"""

from __future__ import annotations

import os
from pathlib import Path

import vzero_recipes

from vzero_core.names import did_you_mean

RECIPES_DIR = Path(vzero_recipes.__file__).resolve().parent
# accelerate launch configs the recipes' headers name (``--config_file NAME.yaml``)
ACCELERATE_DIR = RECIPES_DIR / "accelerate"


class UnknownRecipe(ValueError):
    """Neither a readable file nor the name of a shipped recipe."""


def shipped_recipes() -> dict[str, Path]:
    """``{name: path}`` of every shipped recipe, sorted by name."""
    return {p.stem: p for p in sorted(RECIPES_DIR.glob("*.yaml"))}


def shipped_accelerate_configs() -> dict[str, Path]:
    """``{name: path}`` of the accelerate config files that ship with vzero, sorted by name."""
    return {p.stem: p for p in sorted(ACCELERATE_DIR.glob("*.yaml"))}


def resolve_accelerate_config(name_or_path: str | os.PathLike[str], near: Path | None = None) -> Path:
    """An accelerate config file: ``name_or_path`` itself when it is a file, else a file of that name
    next to ``near`` (a recipe), else the shipped config of that name (``fsdp_8gpu`` or
    ``fsdp_8gpu.yaml``), so a recipe header can name one from any folder. Raises
    :class:`FileNotFoundError` naming the shipped ones."""
    path = Path(name_or_path)
    candidates = [path] + ([near.parent / path] if near is not None else [])
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    shipped = shipped_accelerate_configs()
    stem = path.name.removesuffix(".yaml").removesuffix(".yml")
    if stem in shipped and len(path.parts) == 1:
        return shipped[stem]
    raise FileNotFoundError(
        f"{name_or_path}: no such accelerate config file, and none shipped with vzero of that name"
        f"{did_you_mean(stem, shipped)}; shipped: {', '.join(shipped)}"
    )


def header_command(path: Path) -> str:
    """The command on a recipe's first line (``# vzero-data curate demo ...`` -> ``vzero-data curate demo ...``)."""
    first = path.read_text(encoding="utf-8").split("\n", 1)[0]
    return first.removeprefix("#").strip()


def description(path: Path) -> str:
    """The recipe's ``description`` field, else the first sentence of its header comment's first
    paragraph (whole, however many lines it spans)."""
    import re

    import yaml

    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if isinstance(doc, dict) and doc.get("description"):
        return str(doc["description"])
    words: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        text = line.removeprefix("#").strip()
        if not line.startswith("#") or (not text and words):
            break
        words += text.split()
    paragraph = " ".join(words)
    return re.split(r"(?<=[.!?])\s+(?=[A-Z(`])", paragraph, maxsplit=1)[0]


def resolve_recipe(name_or_path: str | os.PathLike[str]) -> Path:
    """A recipe file: ``name_or_path`` itself when it exists, else the shipped recipe of that name
    (with or without ``.yaml``). Raises :class:`UnknownRecipe` with the shipped names and a guess."""
    path = Path(name_or_path)
    if path.exists():
        return path
    shipped = shipped_recipes()
    name = path.name.removesuffix(".yaml").removesuffix(".yml")
    if name in shipped and (len(path.parts) == 1 or path.parent.name == "recipes"):
        return shipped[name]
    raise UnknownRecipe(
        f"{name_or_path}: no such recipe file, and no shipped recipe of that name"
        f"{did_you_mean(name, shipped)}; shipped: {', '.join(shipped)} (see `vzero-data recipes`)"
    )
