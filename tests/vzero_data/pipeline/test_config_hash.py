import pytest

from vzero_data.pipeline.config_hash import config_hash, hashed_config
from vzero_data.pipeline.recipe import Recipe, apply_overrides

BASE = {
    "name": "t",
    "source": {"adapter": "synthetic", "path": "data/synth"},
    "negatives": [{"strategy": "masked"}],
}


def recipe(*overrides: str) -> Recipe:
    return Recipe.model_validate(apply_overrides(BASE, overrides))


@pytest.mark.parametrize(
    "override",
    [
        "execution.workers=7",
        "execution.limit=3",
        "execution.progress=false",
        "execution.executor=ray",
        "execution.device=cuda:1",
        "execution.grounding_batch_size=64",
        "store.shard_max_mb=1",
        "store.path=/elsewhere",
        "name=renamed",
        "description=whatever",
    ],
)
def test_execution_only_fields_keep_the_hash(override):
    assert config_hash(recipe(override)) == config_hash(recipe())


@pytest.mark.parametrize(
    "override",
    [
        "source.path=data/other",
        "crop.margin_ratio=0.5",
        "negatives=[{strategy: masked, count: 2}]",
        "negatives=[{strategy: masked, params: {max_attempts: 3}}]",
        "grounding.selection.max_area_ratio=0.3",
        "grounding.options.score=0.5",
        "checks.min_view_side=9",
        "store.image_format=jpeg",
    ],
)
def test_output_fields_change_the_hash(override):
    assert config_hash(recipe(override)) != config_hash(recipe())


def test_hash_depends_on_version_and_defaults_are_explicit():
    r = recipe()
    assert config_hash(r, "0.1.0") != config_hash(r, "0.2.0")
    # Spelling out a default value does not change the hash.
    assert config_hash(recipe("checks.min_view_side=8")) == config_hash(r)
    assert "execution" not in hashed_config(r) and "shard_max_mb" not in hashed_config(r)["store"]


def test_hash_is_short_hex_and_stable_across_key_order():
    reordered = Recipe.model_validate(dict(reversed(list(BASE.items()))))
    h = config_hash(recipe())
    assert h == config_hash(reordered)
    assert len(h) == 16 and int(h, 16) >= 0
