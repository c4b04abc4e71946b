import json

import pytest

from tests.store_builder import synthetic_store
from vzero_train.cli import main
from vzero_train.metrics import read_metrics


@pytest.mark.e2e
def test_sft_trains_on_a_curated_store(tmp_path, tiny_vlm, capsys):
    synthetic_store(tmp_path, 3)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"store: {tmp_path / 'store'}\n"
        "sft:\n"
        f"  model: {tiny_vlm('qwen2_5_vl')}\n"
        f"  output_dir: {tmp_path / 'run'}\n"
        "  inputs: full_and_positive\n"
        "  batch_size: 2\n"
        "  steps: 2\n"
        "  device: cpu\n"
    )
    assert main(["sft", str(recipe), "--no-progress", "--set", "sft.optim.lr=1e-3"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("time per stage: load model ")
    assert [r["step"] for r in read_metrics(tmp_path / "run")] == [2]
    model = tmp_path / "run" / "checkpoints" / "step_2" / "model"
    state = json.loads((model.parent / "trainer_state.json").read_text())
    assert state["kind"] == "sft" and state["data_position"] == 4


@pytest.mark.parametrize(
    "text, message",
    [
        ("train: {}\n", "no `sft:` section"),
        ("sft: {model: m, inputs: crop}\n", "sft.inputs"),
        ("sft: {model: ' '}\n", "sft.model"),
    ],
)
def test_sft_reports_recipe_errors(tmp_path, capsys, text, message):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text(text)
    assert main(["sft", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "vzero-train sft: error:" in err and message in err
