"""The config hash: what a recipe produces, as a short stable key for resume and provenance.

It is the SHA-256 of the canonical JSON (sorted keys, no whitespace) of the validated recipe with
every default filled in, minus the fields that change how a run executes but not what it writes,
plus the vzero version. Two recipes that differ only in workers, limit, batch sizes, device, store
path, shard size, name, description or training section share a hash (a resumed run may change them); any other change gives a
new hash, whose results never mix with the old ones.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from vzero_data.pipeline.recipe import Recipe

CONFIG_HASH_HEX_CHARS = 16

# Dotted paths left out of the hash: they change speed or labels, never the rows.
EXECUTION_ONLY_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "execution",
    "store.path",
    "store.shard_max_mb",
    "train",  # read by vzero-train; never changes curated rows
    "source.synthesize",  # how missing scenes are made; the rows follow from the scenes themselves
)


def hashed_config(recipe: Recipe) -> dict[str, Any]:
    """The part of the recipe that determines the output, as plain JSON-ready data."""
    data = recipe.model_dump(mode="json")
    for dotted in EXECUTION_ONLY_FIELDS:
        *parents, leaf = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        node.pop(leaf, None)
    return data


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def config_hash(recipe: Recipe, version: str | None = None) -> str:
    """Short hex key of ``recipe``'s output-determining config and the code version."""
    if version is None:
        from vzero_data import __version__ as version
    payload = canonical_json({"recipe": hashed_config(recipe), "vzero_version": version})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:CONFIG_HASH_HEX_CHARS]
