"""The config hash: a short stable key that means "same output", for resume and provenance.

It is the SHA-256 of the canonical JSON (sorted keys, no whitespace) of

* the validated recipe with every default filled in, minus an allow-list of fields that change how
  a run executes or where things live but never what it writes (``EXECUTION_ONLY_FIELDS``): every
  other field, including any field added to the recipe later, is hashed by construction;
* the output version of the code that makes the rows: the pipeline's own steps, the grounder and
  every view strategy the recipe names. Each is bumped when its boxes or pixels change.

Samples are keyed by content (image bytes and question), so where the source lives is not part of
the hash: the same data curated by an absolute path, a relative path or from a copied folder shares
one hash and one set of rows. An image pool (``negatives[].pool``) is hashed by its content too.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from vzero_core.recipe_base import RecipeError
from vzero_data.pipeline.recipe import Recipe

CONFIG_HASH_HEX_CHARS = 16

# Bump when shared steps change their rows for the same recipe: region selection, checks, image
# encoding, the rows the store gets.
PIPELINE_OUTPUT_VERSION = 1

# Dotted paths left out of the hash (``[]`` is every item of a list): they change speed, labels or
# locations, never the rows. Everything else is hashed.
EXECUTION_ONLY_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "execution",
    "store.path",
    "store.shard_max_mb",
    "source.path",  # samples are keyed by content, not by where the source lives
    "source.image_root",
    "negatives[].pool",  # replaced by the pool's content digest
    "train",  # read by vzero-train; never changes curated rows
    "audit",  # the audit writes its own table, keyed by its own hash; never changes curated rows
    "source.synthesize",  # how missing scenes are made; the rows follow from the scenes themselves
    "checks.benchmark_overlap.against",  # replaced by the benchmarks' content digests
)


def _drop(node: Any, parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        for item in node.get(head[:-2]) or []:
            _drop(item, rest)
    elif not rest:
        node.pop(head, None)
    elif isinstance(node.get(head), dict):
        _drop(node[head], rest)


def hashed_config(recipe: Recipe) -> dict[str, Any]:
    """The part of the recipe that determines the output, as plain JSON-ready data."""
    from vzero_data.views.pool import pool_digest

    data = recipe.model_dump(mode="json")
    for dotted in EXECUTION_ONLY_FIELDS:
        _drop(data, dotted.split("."))
    for i, neg in enumerate(recipe.negatives):
        if neg.pool is not None:
            try:
                data["negatives"][i]["pool_sha256"] = pool_digest(neg.pool)
            except (OSError, ValueError) as exc:
                raise RecipeError(f"negatives[{i}].pool: {neg.pool!r}: {exc}") from None
    against = recipe.checks.benchmark_overlap.against
    if against:
        from vzero_data.benchmarks.images import benchmark_digest
        from vzero_data.benchmarks.items import EvalDataError

        try:
            digests = [benchmark_digest(spec) for spec in against]
        except (OSError, EvalDataError) as exc:
            raise RecipeError(f"checks.benchmark_overlap.against: {exc}") from None
        data["checks"]["benchmark_overlap"]["against_sha256"] = digests
    return data


def output_versions(recipe: Recipe) -> dict[str, int]:
    """The output version of every piece of code that writes this recipe's rows."""
    from vzero_data.grounding.registry import grounder_class
    from vzero_data.views.positive import POSITIVE_OUTPUT_VERSION, POSITIVE_STRATEGY
    from vzero_data.views.registry import get_strategy

    versions = {
        "pipeline": PIPELINE_OUTPUT_VERSION,
        f"grounder:{recipe.grounding.backend}": int(
            getattr(grounder_class(recipe.grounding.backend), "output_version", 1)
        ),
        f"strategy:{POSITIVE_STRATEGY}": POSITIVE_OUTPUT_VERSION,
    }
    for neg in recipe.negatives:
        versions[f"strategy:{neg.strategy}"] = get_strategy(neg.strategy).output_version
    return versions


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def config_hash(recipe: Recipe, versions: dict[str, int] | None = None) -> str:
    """Short hex key of ``recipe``'s output-determining config and its code's output versions."""
    if versions is None:
        versions = output_versions(recipe)
    payload = canonical_json({"recipe": hashed_config(recipe), "output_versions": versions})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:CONFIG_HASH_HEX_CHARS]
