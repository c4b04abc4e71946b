import shutil
from pathlib import Path

import pytest

from vzero_data.synth import SharedColourKnobs
from vzero_train.sandbox.config import SPLIT_NAMES
from vzero_train.sandbox.world import WorldError, check_disjoint, write_split

KNOBS = SharedColourKnobs(size=64, objects_per_colour=1)


def test_splits_made_from_distinct_seeds_are_disjoint_by_sample_id_and_image(tmp_path):
    manifests = {
        name: write_split(tmp_path, name, 500 + i, 5, "shared_colour", KNOBS)
        for i, name in enumerate(SPLIT_NAMES)
    }
    assert check_disjoint(manifests) == dict.fromkeys(SPLIT_NAMES, 5)


def test_a_split_repeating_another_splits_seed_is_refused_naming_the_sample(tmp_path):
    manifests = {
        "teacher": write_split(tmp_path, "teacher", 7, 3, "shared_colour", KNOBS),
        "test": write_split(tmp_path, "test", 7, 3, "shared_colour", KNOBS),
    }
    with pytest.raises(WorldError, match="sample synth-shared_colour-s7-000000 is in both teacher and test"):
        check_disjoint(manifests)


def test_an_image_repeated_under_another_id_is_refused(tmp_path):
    a = write_split(tmp_path, "teacher", 1, 3, "shared_colour", KNOBS)
    b = write_split(tmp_path, "test", 2, 3, "shared_colour", KNOBS)
    shutil.copyfile(
        a.parent / "images" / "synth-shared_colour-s1-000002.png",
        b.parent / "images" / "synth-shared_colour-s2-000001.png",
    )
    with pytest.raises(
        WorldError, match="split test: sample synth-shared_colour-s2-000001 repeats an image of split teacher"
    ):
        check_disjoint({"teacher": a, "test": b})


def test_a_world_folder_of_other_sizes_is_refused(tmp_path):
    write_split(tmp_path, "opd", 3, 4, "shared_colour", KNOBS)
    assert write_split(tmp_path, "opd", 3, 4, "shared_colour", KNOBS).is_file()  # same size: kept
    with pytest.raises(WorldError, match="holds 4 scenes, this run needs 6"):
        write_split(tmp_path, "opd", 3, 6, "shared_colour", KNOBS)


def _tiny_world(tmp_path, doc, config, logs):
    from vzero_train.sandbox.world import build_world

    return build_world(tmp_path, doc, config, dict.fromkeys(SPLIT_NAMES, 2), logs.append)


@pytest.fixture()
def sandbox_doc():
    from vzero_train.sandbox.run import load_recipe

    doc, config = load_recipe(Path(__file__).parents[3] / "recipes" / "sandbox.yaml")
    doc["execution"] = {**doc.get("execution", {}), "workers": 0, "progress": False}
    return doc, config.model_copy(update={"world": config.world.model_copy(update={"size": 64})})


def test_a_resumed_world_keeps_each_splits_views_when_a_view_output_version_changes(
    tmp_path, sandbox_doc, monkeypatch
):
    from dataclasses import replace

    from vzero_data.views import registry
    from vzero_train.sandbox.run import store_source, stored_strategies
    from vzero_train.sandbox.world import store_config_hashes

    doc, config = sandbox_doc
    logs: list[str] = []
    first = _tiny_world(tmp_path, doc, config, logs)
    hashes = {s: c["config_hash"] for s, c in first["curation"].items()}

    degraded = registry.NEGATIVE_STRATEGIES["degraded"]
    monkeypatch.setitem(
        registry.NEGATIVE_STRATEGIES,
        "degraded",
        replace(degraded, output_version=degraded.output_version + 1),
    )
    again = _tiny_world(tmp_path, doc, config, logs)

    for split in SPLIT_NAMES:
        assert again["curation"][split]["config_hash"] == hashes[split]
        assert again["curation"][split]["current_config_hash"] != hashes[split]
        assert store_config_hashes(tmp_path / "stores" / split) == [hashes[split]]
    assert any("keeping the views curated under config hash" in line for line in logs)
    strategies = stored_strategies(tmp_path / "stores" / "opd", hashes["opd"])
    assert "degraded" in strategies
    records = list(store_source(tmp_path / "stores" / "opd", strategies, hashes["opd"])())
    assert len(records) == 2


def test_a_pin_whose_store_is_gone_curates_again(tmp_path, sandbox_doc, monkeypatch):
    from dataclasses import replace

    from vzero_data.views import registry
    from vzero_train.sandbox.world import pinned_hashes

    doc, config = sandbox_doc
    first = _tiny_world(tmp_path, doc, config, [])
    shutil.rmtree(tmp_path / "stores" / "test")
    degraded = registry.NEGATIVE_STRATEGIES["degraded"]
    monkeypatch.setitem(
        registry.NEGATIVE_STRATEGIES,
        "degraded",
        replace(degraded, output_version=degraded.output_version + 1),
    )
    again = _tiny_world(tmp_path, doc, config, [])
    assert again["curation"]["test"]["config_hash"] != first["curation"]["test"]["config_hash"]
    assert pinned_hashes(tmp_path)["test"] == again["curation"]["test"]["config_hash"]
    assert again["curation"]["opd"]["config_hash"] == first["curation"]["opd"]["config_hash"]
