"""Reading a recipe: YAML, ``--set`` overrides, the schema (:mod:`.recipe`), then the plugins' own
checks (:mod:`.plugins`). Nothing runs until :func:`load_recipe` succeeds."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from vzero_core.recipe_base import RecipeError, apply_overrides
from vzero_core.recipe_errors import describe_errors, join_errors
from vzero_data.pipeline.plugins import plugin_problems
from vzero_data.pipeline.recipe import Recipe


def recipe_from_mapping(data: Any, where: str = "recipe") -> Recipe:
    """Validate a parsed recipe; raise :class:`RecipeError` listing every located problem."""
    if not isinstance(data, Mapping):
        raise RecipeError(f"{where}: expected a mapping of sections, got {type(data).__name__}")
    try:
        recipe = Recipe.model_validate(dict(data))
    except ValidationError as exc:
        raise RecipeError(join_errors(describe_errors(exc, Recipe, where))) from None
    problems = check_plugins(recipe, where)
    if problems:
        raise RecipeError(join_errors(problems))
    return recipe


def load_recipe(path: str | os.PathLike[str], overrides: Sequence[str] = ()) -> Recipe:
    """Read, override and validate a recipe file, or the shipped recipe of that name (``demo``).
    Nothing runs until this succeeds."""
    from vzero_core.recipes import UnknownRecipe, resolve_recipe

    try:
        path = resolve_recipe(path)
    except UnknownRecipe as exc:
        raise RecipeError(str(exc)) from None
    where = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RecipeError(f"{path}: cannot read recipe: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RecipeError(f"{where}: not valid YAML{at}: {problem}") from None
    if data is None:
        raise RecipeError(f"{where}: the recipe is empty")
    if not isinstance(data, Mapping):
        raise RecipeError(f"{where}: expected a mapping of sections, got {type(data).__name__}")
    return recipe_from_mapping(apply_overrides(data, overrides), where)


def check_plugins(recipe: Recipe, where: str) -> list[str]:
    """Check the registry-backed names and params (source adapter, grounder, negative strategies)."""
    return [f"{where}: {line}" for line in plugin_problems(recipe)]
