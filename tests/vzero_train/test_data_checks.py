"""Before any model is built, a run's store is checked against what the recipe asks of it."""

import pytest

from tests.store_builder import curate
from vzero_data.ingest import ingest
from vzero_data.store import open_store
from vzero_data.synth import write_scenes
from vzero_train.cli import main
from vzero_train.config import TrainConfig
from vzero_train.data_checks import TrainingDataError, check_training_store


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    """``one``: config cfg-a with negatives 'corner' and 'blur'; ``two``: configs cfg-a and cfg-b."""
    root = tmp_path_factory.mktemp("stores")
    write_scenes(root / "synth", 2, size=192, seed=3, progress=False)
    paths = {}
    for name, configs in (("one", ("cfg-a",)), ("two", ("cfg-a", "cfg-b"))):
        store = open_store(root / name, create=True)
        ingest(str(root / "synth"), "synthetic", store, progress=False)
        for config in configs:
            curate(store, config=config, extra_negative="blur")
        paths[name] = root / name
    open_store(root / "empty", create=True)
    paths["empty"] = root / "empty"
    paths["missing"] = root / "missing"
    return paths


def _config(store, **data):
    return TrainConfig(store=str(store), student="s", teacher={"kind": "frozen_self"}, data=data)


@pytest.mark.parametrize(
    "store, data, message",
    [
        ("missing", {}, r"train.store: .*missing: no such store.*curate it first"),
        ("empty", {}, r"store .*empty holds no valid views"),
        (
            "one",
            {"negative": "downsampled_distractor"},
            r"no negative views of strategy downsampled_distractor "
            r"\(train.data.negative\); it holds: blur, corner$",
        ),
        (
            "one",
            {"strategies": ["corner", "masked"]},
            r"strategy masked \(train.data.strategies\); it holds: blur, corner",
        ),
        ("one", {"positive_strategy": "zoom"}, r"no positive views of strategy 'zoom' .*it holds: crop$"),
        ("one", {"config_hash": "cfg-z"}, r"no views of train.data.config_hash 'cfg-z'; it holds: cfg-a$"),
        ("two", {}, r"several curation configs \(cfg-a, cfg-b\); name one with train.data.config_hash"),
    ],
)
def test_wrong_names_fail_listing_what_the_store_holds(stores, store, data, message):
    with pytest.raises(TrainingDataError, match=message):
        check_training_store(_config(stores[store], **data))


@pytest.mark.parametrize(
    "store, data, expected",
    [
        ("one", {}, {"positive": {"crop": 2}, "negative": {"blur": 2, "corner": 2}}),
        ("one", {"negative": "corner"}, {"positive": {"crop": 2}, "negative": {"blur": 2, "corner": 2}}),
        # computed on the fly from the full image and the positive: no stored negative named
        ("one", {"negative": "relative"}, {"positive": {"crop": 2}, "negative": {"blur": 2, "corner": 2}}),
        (
            "two",
            {"config_hash": "cfg-b", "strategies": ["blur"]},
            {"positive": {"crop": 2}, "negative": {"blur": 2, "corner": 2}},
        ),
    ],
)
def test_a_store_that_fits_passes(stores, store, data, expected):
    assert check_training_store(_config(stores[store], **data)) == expected


def test_train_checks_the_store_before_building_any_model(stores, tmp_path, capsys):
    """A tiny student would be built first: only a data check that runs before it reports the store."""
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "train:\n"
        f"  store: {stores['one']}\n"
        f"  output_dir: {tmp_path / 'run'}\n"
        "  student: tiny:qwen2_5_vl\n"
        "  teacher: {kind: frozen_self}\n"
        "  data: {negative: downsampled_distractor}\n"
        "  device: cpu\n"
    )
    assert main(["train", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "no negative views of strategy downsampled_distractor" in err
    assert not (tmp_path / "run" / "models").exists(), "no model was built before the store check"
