"""Training straight from a curated store through the store API."""

import pytest

from tests.store_builder import curate
from vzero_data.ingest import ingest
from vzero_data.store import open_store
from vzero_data.synth import write_scenes
from vzero_train.cli import main
from vzero_train.metrics import read_metrics


def _curated_store(root, configs=("cfg-test",)):
    write_scenes(root / "synth", 4, size=192, seed=3, progress=False)
    store = open_store(root / "store", create=True)
    ingest(str(root / "synth"), "synthetic", store, progress=False)
    for config in configs:
        curate(store, config=config, positive_margin=0.5)
    return root / "store"


@pytest.mark.slow
def test_cli_trains_on_a_curated_store(tmp_path, tiny_vlm):
    store = _curated_store(tmp_path)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "train:\n"
        f"  store: {store}\n"
        f"  output_dir: {tmp_path / 'run'}\n"
        f"  student: {tiny_vlm('qwen2_5_vl')}\n"
        f"  teacher: {{kind: external, path: {tiny_vlm('qwen2_5_vl', 'teacher')}}}\n"
        "  data: {negative: corner}\n"
        "  rollout: {group_size: 2, max_new_tokens: 4}\n"
        "  prompts_per_step: 2\n"
        "  steps: 2\n"
        "  device: cpu\n"
        "  tensorboard: false\n"
    )
    assert main(["train", str(recipe)]) == 0
    logged = read_metrics(tmp_path / "run")
    assert [r["step"] for r in logged] == [1, 2] and "gate/weight_mean" in logged[0]
    assert logged[-1]["data_position"] == 4


def test_a_store_of_several_configs_needs_one_named(tmp_path):
    from vzero_train.config import TrainConfig
    from vzero_train.data_checks import TrainingDataError
    from vzero_train.trainer import store_records

    store = _curated_store(tmp_path, configs=("cfg-a", "cfg-b"))
    config = TrainConfig(store=str(store), student="s", teacher={"kind": "frozen_self"})
    with pytest.raises(
        TrainingDataError, match=r"several curation configs \(cfg-a, cfg-b\).*train.data.config_hash"
    ):
        store_records(config)
    chosen = TrainConfig(
        store=str(store), student="s", teacher={"kind": "frozen_self"}, data={"config_hash": "cfg-b"}
    )
    records = list(store_records(chosen)())
    assert len(records) == 4 and {r.config_hash for r in records} == {"cfg-b"}
