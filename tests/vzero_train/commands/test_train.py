import pytest

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


def test_set_takes_the_full_recipe_path_as_curate_does(tmp_path, monkeypatch, capsys):
    import yaml

    monkeypatch.chdir(tmp_path)
    argv = ["train", "demo", "--set", "train.store=other/store", "--set", "optim.lr=2e-6", "--print-config"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("# train: section of demo, as it would run")
    section = yaml.safe_load(printed)["train"]
    assert section["store"] == "other/store" and section["optim"]["lr"] == 2e-6
    assert section["steps"] == 8 and section["gate"]["alpha"] == 0.5  # the recipe's, then the defaults
    assert list(tmp_path.iterdir()) == [], "printing the configuration runs nothing"


@pytest.mark.parametrize("command, section", [("train", "train"), ("sft", "sft")])
def test_a_set_key_outside_the_section_is_one_clear_error(command, section, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([command, "sandbox", "--set", "source.path=x", "--print-config"]) == 2
    err = capsys.readouterr().err
    assert f"source.path is not in the {section}: section" in err and f"e.g. {section}.steps" in err


def test_sft_prints_its_resolved_section(tmp_path, monkeypatch, capsys):
    import yaml

    monkeypatch.chdir(tmp_path)
    assert main(["sft", "sandbox", "--set", "sft.steps=3", "--store", "s", "--print-config"]) == 0
    section = yaml.safe_load(capsys.readouterr().out)["sft"]
    assert (section["steps"], section["store"], section["model"]) == (3, "s", "tiny:qwen3_vl")


@pytest.mark.parametrize("command", ["train", "sft"])
def test_dry_run_checks_the_inputs_and_runs_nothing(command, tmp_path, monkeypatch, capsys):
    from vzero_data.store import open_store

    monkeypatch.chdir(tmp_path)
    argv = [command, "sandbox" if command == "sft" else "demo", "--dry-run", "--output-dir", "run"]
    assert main([*argv, "--store", "missing"]) == 2
    assert "store: missing: no such store" in capsys.readouterr().err
    open_store(tmp_path / "store", create=True)
    assert main([*argv, "--store", "store"]) == 0
    out = capsys.readouterr().out
    assert "checked: recipe, store store" in out and "nothing was run" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
