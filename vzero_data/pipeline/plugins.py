"""Check a recipe's plugin names and parameters against the registries, before any work starts.

The recipe schema validates the envelope (sections, types, ranges); the plugins own their
parameters. This module asks each registry: is the source adapter known, is the grounding backend
known, is each negative strategy known and are its params valid. Problems come back as located
lines (``negatives[2].params.k: expected an integer >= 2, got 'x'``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from vzero_core.recipe_errors import describe_errors, format_loc
from vzero_data.pipeline.recipe import Recipe


def grounder_options(recipe: Recipe, fields: Iterable[str]) -> dict[str, Any]:
    """The options the recipe gives its grounder: ``grounding.options`` plus model and tiling, and
    the execution knobs (device, batch size) where the backend's options have such fields."""
    cfg, ex = recipe.grounding, recipe.execution
    fields = set(fields)
    options = dict(cfg.options)
    extra = {
        "model": cfg.model,
        "tiling": cfg.tiling.model_dump(),
        "device": ex.device,
        "batch_size": ex.grounding_batch_size,
        "progress": False,
    }
    for key, value in extra.items():
        if key in fields and value is not None:
            options.setdefault(key, value)
    return options


def _unknown(path: str, kind: str, name: str, known: list[str]) -> str:
    from vzero_core.names import unknown_name

    return f"{path}: {unknown_name(kind, name, known)}"


def source_problems(recipe: Recipe) -> list[str]:
    from vzero_data.sources import SOURCES

    name = recipe.source.adapter
    if name not in SOURCES:
        return [_unknown("source.adapter", "source adapter", name, list(SOURCES))]
    return []


def grounding_problems(recipe: Recipe) -> list[str]:
    from vzero_data.grounding import GROUNDERS
    from vzero_data.grounding.registry import grounder_class
    from vzero_data.grounding.tiling import TilingConfig

    cfg = recipe.grounding
    if cfg.backend not in GROUNDERS:
        return [_unknown("grounding.backend", "grounding backend", cfg.backend, list(GROUNDERS))]
    options_model = grounder_class(cfg.backend).Options
    fields = options_model.model_fields
    problems = []
    if cfg.model is not None and "model" not in fields:
        problems.append(f"grounding.model: backend {cfg.backend!r} takes no model (got {cfg.model!r})")
    if cfg.tiling != TilingConfig() and "tiling" not in fields:
        problems.append(f"grounding.tiling: backend {cfg.backend!r} does not tile images")
    if problems:
        return problems
    try:
        options_model.model_validate(grounder_options(recipe, fields))
    except ValidationError as exc:
        lines = describe_errors(exc, options_model, "", prefix=("grounding", "options"))
        problems.extend(line.removeprefix(": ") for line in lines)
    return problems


# Strategies that draw pixels from other images need an image pool (NegativeConfig.pool).
POOL_STRATEGIES = frozenset({"cross_image"})


def negative_problems(recipe: Recipe) -> list[str]:
    from vzero_data.views import NEGATIVE_STRATEGIES

    problems = []
    for i, neg in enumerate(recipe.negatives):
        path = format_loc(("negatives", i, "strategy"))
        strategy = NEGATIVE_STRATEGIES.get(neg.strategy)
        if strategy is None:
            problems.append(_unknown(path, "negative strategy", neg.strategy, list(NEGATIVE_STRATEGIES)))
            continue
        try:
            strategy.params_model.model_validate(neg.params)
        except ValidationError as exc:
            lines = describe_errors(exc, strategy.params_model, "", prefix=("negatives", i, "params"))
            problems.extend(line.removeprefix(": ") for line in lines)
        if neg.strategy in POOL_STRATEGIES and neg.pool is None:
            problems.append(
                f"negatives[{i}].pool: strategy {neg.strategy!r} draws from other images: "
                "set pool to a folder of images"
            )
        elif neg.pool is not None and neg.strategy not in POOL_STRATEGIES:
            problems.append(f"negatives[{i}].pool: strategy {neg.strategy!r} uses no image pool")
    return problems


def plugin_problems(recipe: Recipe) -> list[str]:
    """Every registry-level problem in ``recipe`` (empty when it can run)."""
    return [*source_problems(recipe), *grounding_problems(recipe), *negative_problems(recipe)]
