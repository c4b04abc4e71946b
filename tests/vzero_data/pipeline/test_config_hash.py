import re
import shutil
import types
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from vzero_core.recipe_base import apply_overrides
from vzero_data.pipeline import config_hash
from vzero_data.pipeline.config_hash import EXECUTION_ONLY_FIELDS, hashed_config, output_versions
from vzero_data.pipeline.recipe import Recipe
from vzero_data.views.registry import NEGATIVE_STRATEGIES

BASE = {
    "name": "t",
    "source": {"adapter": "synthetic", "path": "data/synth"},
    "negatives": [{"strategy": "masked"}],
}


def recipe(*overrides: str) -> Recipe:
    return Recipe.model_validate(apply_overrides(BASE, overrides))


# -- every recipe field, generated from the model ---------------------------------------------------
# Fields whose values are checked names (registered plugins, devices): a change must name another.
NAMED_VALUES = {
    "source.adapter": ["jsonl"],
    "grounding.backend": ["owlv2"],
    "negatives[0].strategy": ["shuffled"],
    "execution.device": ["cpu"],
    "audit": [{"teacher": "some/teacher"}],
}


def _leaves(model: type[BaseModel], prefix: str = "") -> list[tuple[str, typing.Any, typing.Any]]:
    """``(dotted path, annotation, default)`` of every leaf field of ``model``; list-of-model fields
    descend into their first item (``negatives[0].count``)."""
    out = []
    for name, info in model.model_fields.items():
        path, ann = f"{prefix}{name}", info.annotation
        args = [a for a in typing.get_args(ann) if a is not type(None)]
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out += _leaves(ann, path + ".")
        elif (
            typing.get_origin(ann) is list
            and args
            and isinstance(args[0], type)
            and issubclass(args[0], BaseModel)
        ):
            out += _leaves(args[0], path + "[0].")
        else:
            out.append((path, ann, info.get_default(call_default_factory=True)))
    return out


def _candidates(ann: typing.Any, default: typing.Any) -> list[typing.Any]:
    """Values of type ``ann`` that differ from ``default``, most natural first."""
    origin, args = typing.get_origin(ann), [a for a in typing.get_args(ann) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        return [c for a in args for c in _candidates(a, default)]
    if origin is typing.Literal:
        return [a for a in typing.get_args(ann) if a != default]
    if ann is bool:
        return [not default]
    if ann is int:
        base = default if isinstance(default, int) else 1
        return [base + 1, base + 100, max(1, base - 1)]
    if ann is float:
        base = default if isinstance(default, (int, float)) else 0.5
        return [base + 0.5, base + 0.05, base / 2 if base else 0.01, base + 1]
    if ann is str:
        return ["changed-value"]
    if origin is dict or ann is dict:
        return [{"changed": "value"}, {"changed": 1}]
    return ["changed-value", 1]


def _set(data: dict, path: str, value: typing.Any) -> dict:
    node: typing.Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        m = re.fullmatch(r"(\w+)\[(\d+)\]", part)
        node = node[m.group(1)][int(m.group(2))] if m else node.setdefault(part, {})
    node[parts[-1]] = value
    return data


def _is_execution_only(path: str) -> bool:
    generic = re.sub(r"\[\d+\]", "[]", path)
    return any(generic == f or generic.startswith(f + ".") for f in EXECUTION_ONLY_FIELDS)


def _changed(path: str, ann: typing.Any, default: typing.Any) -> Recipe:
    """``BASE`` with the field at ``path`` set to the first valid value other than its default."""
    for value in NAMED_VALUES.get(path) or _candidates(ann, default):
        data = _set(apply_overrides(BASE, []), path, value)
        try:
            return Recipe.model_validate(data)
        except ValidationError:
            continue
    raise AssertionError(f"no valid change generated for recipe field {path}: add one to NAMED_VALUES")


LEAVES = _leaves(Recipe)
OUTPUT_FIELDS = [leaf for leaf in LEAVES if not _is_execution_only(leaf[0])]
# pool, synthesize and benchmark_overlap.against take folders or adapter-bound values a generated change cannot make valid.
EXECUTION_FIELDS = [
    leaf
    for leaf in LEAVES
    if _is_execution_only(leaf[0])
    and "pool" not in leaf[0]
    and "synthesize" not in leaf[0]
    and "against" not in leaf[0]
]


# The reviewed allow-list: a field joins it only with a reason why it never changes the rows.
REVIEWED_EXECUTION_ONLY = {
    "name": "a label",
    "description": "a label",
    "execution": "speed and placement: workers, batch sizes, device, limit, executor",
    "store.path": "where the store is",
    "store.shard_max_mb": "how rows are split into files, not which rows",
    "source.path": "where the source is: samples are keyed by content",
    "source.image_root": "where the images are: samples are keyed by content",
    "negatives[].pool": "where the pool is: hashed by its content instead",
    "source.synthesize": "how missing scenes are made: the rows follow from the scenes' content",
    "train": "read by vzero-train only",
    "checks.benchmark_overlap.against": "where the benchmarks are: hashed by their content instead",
    "audit": "the evidence audit: its own table under its own hash (its rejects are extra rows)",
}


def test_the_allow_list_is_the_reviewed_one():
    assert set(EXECUTION_ONLY_FIELDS) == set(REVIEWED_EXECUTION_ONLY)


def test_the_generated_tables_cover_the_recipe():
    assert len(OUTPUT_FIELDS) > 30 and len(EXECUTION_FIELDS) > 10
    paths = {p for p, _, _ in OUTPUT_FIELDS}
    assert {"grounding.model", "crop.margin_ratio", "negatives[0].params", "store.image_format"} <= paths


@pytest.mark.parametrize("path, ann, default", OUTPUT_FIELDS, ids=[p for p, _, _ in OUTPUT_FIELDS])
def test_changing_any_output_field_changes_the_hash(path, ann, default):
    assert config_hash(_changed(path, ann, default)) != config_hash(recipe()), path


@pytest.mark.parametrize("path, ann, default", EXECUTION_FIELDS, ids=[p for p, _, _ in EXECUTION_FIELDS])
def test_changing_an_execution_only_field_keeps_the_hash(path, ann, default):
    assert config_hash(_changed(path, ann, default)) == config_hash(recipe()), path


# -- locations and versions ---------------------------------------------------------------------------
def _pool(folder: Path, colors: list[str]) -> str:
    from PIL import Image

    folder.mkdir(parents=True)
    for i, color in enumerate(colors):
        Image.new("RGB", (8, 8), color).save(folder / f"{i}.png")
    return str(folder)


def test_a_pool_is_hashed_by_its_content_not_its_location(tmp_path):
    pool = _pool(tmp_path / "a" / "pool", ["red", "blue"])
    copy = shutil.copytree(pool, tmp_path / "elsewhere" / "copy")
    other = _pool(tmp_path / "b", ["red", "green"])

    def with_pool(path):
        return recipe(f"negatives=[{{strategy: cross_image, pool: '{path}'}}]")

    assert config_hash(with_pool(pool)) == config_hash(with_pool(copy))
    assert config_hash(with_pool(pool)) != config_hash(with_pool(other))


@pytest.mark.parametrize("key", ["pipeline", "grounder:annotated", "strategy:crop", "strategy:masked"])
def test_each_output_version_is_in_the_hash(key):
    r = recipe()
    versions = output_versions(r)
    assert key in versions
    assert config_hash(r, {**versions, key: versions[key] + 1}) != config_hash(r)


def test_a_strategy_version_bump_changes_the_hash(monkeypatch):
    import dataclasses

    before = config_hash(recipe())
    bumped = dataclasses.replace(NEGATIVE_STRATEGIES["masked"], output_version=2)
    monkeypatch.setitem(NEGATIVE_STRATEGIES, "masked", bumped)
    assert config_hash(recipe()) != before


def test_defaults_are_explicit_and_locations_are_left_out():
    r = recipe()
    # Spelling out a default value does not change the hash.
    assert config_hash(recipe("checks.min_view_side=8")) == config_hash(r)
    hashed = hashed_config(r)
    assert "execution" not in hashed and "shard_max_mb" not in hashed["store"]
    assert "path" not in hashed["source"] and hashed["source"]["adapter"] == "synthetic"


def test_hash_is_short_hex_and_stable_across_key_order():
    reordered = Recipe.model_validate(dict(reversed(list(BASE.items()))))
    h = config_hash(recipe())
    assert h == config_hash(reordered)
    assert len(h) == 16 and int(h, 16) >= 0
