"""Check a recipe's plugin names and parameters against the registries, before any work starts.

The recipe schema validates the envelope (sections, types, ranges); the plugins own their
parameters. This module asks each registry: is the source adapter known, is the grounding backend
known, is each negative strategy known and are its params valid. Problems come back as located
lines (``negatives[2].params.k: expected an integer >= 2, got 'x'``).
"""

from __future__ import annotations

from difflib import get_close_matches

from pydantic import ValidationError

from vzero_data.pipeline.recipe import Recipe
from vzero_data.pipeline.recipe_errors import describe_errors, format_loc


def _unknown(path: str, kind: str, name: str, known: list[str]) -> str:
    close = get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{path}: unknown {kind} {name!r}{hint}; known: {', '.join(sorted(known))}"


def source_problems(recipe: Recipe) -> list[str]:
    from vzero_data.sources import SOURCES

    name = recipe.source.adapter
    if name not in SOURCES:
        return [_unknown("source.adapter", "source adapter", name, list(SOURCES))]
    return []


def grounding_problems(recipe: Recipe) -> list[str]:
    from vzero_data.grounding import GROUNDERS

    name = recipe.grounding.backend
    if name not in GROUNDERS:
        return [_unknown("grounding.backend", "grounding backend", name, list(GROUNDERS))]
    return []


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
    return problems


def plugin_problems(recipe: Recipe) -> list[str]:
    """Every registry-level problem in ``recipe`` (empty when it can run)."""
    return [*source_problems(recipe), *grounding_problems(recipe), *negative_problems(recipe)]
