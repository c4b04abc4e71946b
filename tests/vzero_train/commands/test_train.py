from vzero_train import trainer as trainer_module
from vzero_train.cli import main


def test_cli_trains_from_a_recipe(tmp_path, tiny_vlm, records, monkeypatch, capsys):
    from vzero_data.store import open_store

    open_store(tmp_path / "store", create=True)  # train checks its store before loading models
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"store: {tmp_path / 'store'}\n"
        "train:\n"
        f"  student: {tiny_vlm('qwen2_5_vl')}\n"
        "  teacher: {kind: frozen_self}\n"
        "  prompts_per_step: 2\n"
        "  rollout: {group_size: 2, max_new_tokens: 4}\n"
        "  device: cpu\n"
        "  tensorboard: false\n"
    )
    seen = {}

    def fake_store_records(config):
        seen["store"] = config.store
        return lambda: records

    monkeypatch.setattr(trainer_module, "store_records", fake_store_records)
    out = tmp_path / "run"
    code = main(["train", str(recipe), "--steps", "1", "--output-dir", str(out), "--set", "gate.alpha=1.0"])
    assert code == 0
    assert seen["store"] == str(tmp_path / "store")
    assert "trained 1 steps" in capsys.readouterr().out
    assert (out / "checkpoints" / "step_1" / "trainer_state.json").is_file()


def test_cli_reports_recipe_errors(tmp_path, capsys):
    recipe = tmp_path / "bad.yaml"
    recipe.write_text("train: {student: s, teacher: {kind: external}}\n")
    assert main(["train", str(recipe)]) == 2
    err = capsys.readouterr().err
    assert "vzero-train train: error:" in err and "needs teacher.path" in err
    assert main(["train", str(recipe), "--set", "nokey"]) == 2
