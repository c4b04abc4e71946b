from pathlib import Path

import pytest
import yaml

from vzero_core.recipe_base import RecipeError, apply_overrides
from vzero_data.pipeline.load import load_recipe

ROOT = Path(__file__).resolve().parents[3]

GOOD = {
    "name": "t",
    "source": {"adapter": "synthetic", "path": "data/synth"},
    "negatives": [
        {"strategy": "downsampled_distractor", "params": {"factor": 2}},
        {"strategy": "masked", "count": 2},
    ],
}


def write(tmp_path, data, name="recipe.yaml"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def test_good_recipe_loads_with_defaults(tmp_path):
    recipe = load_recipe(write(tmp_path, GOOD))
    assert recipe.negatives[1].count == 2
    assert recipe.execution.executor == "local"
    assert recipe.grounding.backend == "annotated"


def test_overrides_are_validated_like_the_file(tmp_path):
    path = write(tmp_path, GOOD)
    assert load_recipe(path, ["execution.workers=5"]).execution.workers == 5
    with pytest.raises(
        RecipeError, match=r"recipe.yaml: execution.workers: expected an integer >= 0 and <= 512, got -2"
    ):
        load_recipe(path, ["execution.workers=-2"])


@pytest.mark.parametrize(
    "overrides, message",
    [
        (
            ["negatives=[{strategy: downsampled_distractor, params: {factor: x}}]"],
            "recipe.yaml: negatives[0].params.factor: expected an integer >= 2 and <= 16, got 'x'",
        ),
        (
            ["negatives=[{strategy: masked}, {strategy: shuffled, params: {grid: 1}}]"],
            "recipe.yaml: negatives[1].params.grid: expected an integer >= 2 and <= 32, got 1",
        ),
        (
            ["negatives=[{strategy: masked, params: {colour: red}}]"],
            "recipe.yaml: negatives[0].params.colour: unknown field",
        ),
        (
            ["negatives=[{strategy: maskd}]"],
            "negatives[0].strategy: unknown negative strategy 'maskd' (did you mean 'masked'?)",
        ),
        (["negatives=[{strategy: masked, count: 0}]"], "negatives[0].count: expected an integer >= 1"),
        (["negatives=[]"], "recipe.yaml: negatives: list should have at least 1 item"),
        (["negativs=[]"], "recipe.yaml: negativs: unknown field (allowed: name, description, source"),
        (["source.adapter=jsonx"], "recipe.yaml: source.adapter: unknown source adapter 'jsonx'"),
        (["source.paths=x"], "recipe.yaml: source.paths: unknown field (allowed: adapter, path, image_root"),
        (
            ["grounding.selection.mode=best"],
            "grounding.selection.mode: expected 'top1', 'all' or 'union', got 'best'",
        ),
        (["grounding.model=foo"], "grounding.model: backend 'annotated' takes no model"),
        (
            ["grounding.backend=grounding-dino", "grounding.options.threshold=2"],
            "recipe.yaml: grounding.options.threshold: expected a number >= 0.0 and <= 1.0, got 2",
        ),
        (["grounding.tiling.tile_size=8"], "grounding.tiling.tile_size: expected an integer >= 32, got 8"),
        (
            ["negatives=[{strategy: cross_image}]"],
            "negatives[0].pool: strategy 'cross_image' draws from other images",
        ),
        (["crop.min_side=0"], "recipe.yaml: crop.min_side: expected an integer >= 1, got 0"),
        (["grounding.backend=dino"], "recipe.yaml: grounding.backend: unknown grounding backend 'dino'"),
        (["crop.margin_ratio=big"], "recipe.yaml: crop.margin_ratio: expected a number"),
        (["store.image_format=gif"], "store.image_format: expected 'png', 'jpeg' or 'webp', got 'gif'"),
        (
            ["execution.device=tpu"],
            "execution.device: expected 'auto', 'cpu', 'cuda[:N]', 'mps' or 'xpu', got 'tpu'",
        ),
        (["execution.executor=slurm"], "execution.executor: expected 'local' or 'ray', got 'slurm'"),
        (["execution=4"], "recipe.yaml: execution: expected a mapping, got 4"),
        (["name="], "recipe.yaml: name: "),
    ],
)
def test_bad_recipes_name_the_field(tmp_path, overrides, message):
    data = apply_overrides(GOOD, overrides)
    path = write(tmp_path, data)
    with pytest.raises(RecipeError) as exc:
        load_recipe(path)
    assert message in str(exc.value)


def test_missing_section_is_named(tmp_path):
    data = {k: v for k, v in GOOD.items() if k != "source"}
    with pytest.raises(RecipeError, match=r"recipe.yaml: source: required field is missing"):
        load_recipe(write(tmp_path, data))


def test_several_problems_are_all_listed(tmp_path):
    data = apply_overrides(GOOD, ["execution.workers=-1", "store.quality=0"])
    with pytest.raises(RecipeError) as exc:
        load_recipe(write(tmp_path, data))
    text = str(exc.value)
    assert text.startswith("2 problems:")
    assert "execution.workers" in text and "store.quality" in text


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "recipe.yaml: the recipe is empty"),
        ("- a\n- b\n", "recipe.yaml: expected a mapping of sections, got list"),
        ("name: [unclosed\n", "recipe.yaml: not valid YAML (line"),
    ],
)
def test_unparseable_files(tmp_path, text, message):
    with pytest.raises(RecipeError, match=None) as exc:
        load_recipe(write(tmp_path, text))
    assert message in str(exc.value)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(RecipeError, match="nope.yaml: no such recipe file"):
        load_recipe(tmp_path / "nope.yaml")


@pytest.mark.parametrize("override", ["novalue", "=3", "name.x=1"])
def test_bad_overrides(tmp_path, override):
    with pytest.raises(RecipeError, match="override"):
        load_recipe(write(tmp_path, GOOD), [override])


def test_every_shipped_recipe_exists():
    from vzero_core.recipes import shipped_recipes

    assert {"demo", "groundingdino_vstar", "ablation_negatives"} <= set(shipped_recipes())


@pytest.mark.parametrize(
    "source, message",
    [
        ({"adapter": "jsonl", "path": "x.jsonl", "synthesize": {"n": 2}}, "only the synthetic adapter"),
        ({"adapter": "synthetic", "path": "s", "synthesize": {"n": 0}}, "source.synthesize.n: expected"),
    ],
)
def test_synthesize_is_for_synthetic_sources(tmp_path, source, message):
    with pytest.raises(RecipeError, match=message):
        load_recipe(write(tmp_path, {**GOOD, "source": source}))


def test_a_shipped_recipe_loads_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_recipe("demo", ["execution.workers=3"]).execution.workers == 3
