import json
from pathlib import Path

import pytest
import yaml

from vzero_train.cli import main
from vzero_train.commands.sandbox import default_recipe


def shrunken_recipe(tmp_path):
    """recipes/sandbox.yaml with its quick sizes cut to a few scenes and steps (machinery, not accuracy)."""
    doc = yaml.safe_load(default_recipe().read_text())
    doc["sandbox"]["quick"] = {
        "split_n": {"teacher": 8, "student": 8, "opd": 6, "val": 2, "test": 6},
        "teacher_steps": 2,
        "student_steps": 2,
        "arm_steps": 2,
        "arm_save_every": 1,
        "seeds": 1,
        "arms": ["base", "plain", "gate_downsampled_distractor", "random_crop"],
    }
    doc["sft"]["batch_size"] = 4
    doc["train"]["prompts_per_step"] = 2
    path = tmp_path / "sandbox.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.mark.slow
def test_sandbox_runs_every_stage_and_reports_every_arm(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    recipe = shrunken_recipe(tmp_path)
    args = ["sandbox", "--out", str(out), "--quick", "--recipe", str(recipe)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    for stage in (
        "[1/6] world",
        "[2/6] teacher",
        "[3/6] teacher check",
        "[4/6] base student",
        "[5/6] arms",
        "[6/6] evaluation",
    ):
        assert stage in printed
    report = json.loads((out / "report.json").read_text())
    assert set(report["arms"]) == {"base", "plain", "gate_downsampled_distractor", "random_crop"}
    for arm in report["arms"].values():
        assert arm["n"] == 6 and 0 <= arm["ci_low"] <= arm["accuracy"] <= arm["ci_high"] <= 1
        assert all(Path(c, "config.json").is_file() for c in arm["checkpoints"])
    assert (
        report["arms"]["plain"]["gate"] == {} and "gate/weight_mean" in report["arms"]["random_crop"]["gate"]
    )
    assert report["arms"]["plain"]["by_step"].keys() == {"1", "2"}  # intermediate checkpoints evaluated
    views = report["teacher"]["views"]
    assert {"positive", "none", "downsampled_distractor", "masked", "cross_image"} <= set(views)
    assert report["world"]["shortcut"]["n"] == 6 and report["world"]["sizes"]["test"] == 6
    assert {(p["a"], p["b"]) for p in report["paired"]} >= {
        ("plain", "base"),
        ("gate_downsampled_distractor", "plain"),
    }
    assert (out / "eval" / "plain" / "seed0" / "step_2" / "results.json").is_file()
    assert "| gate_downsampled_distractor |" in (out / "report.md").read_text()

    # a rerun resumes: every stage is found done, the same outcomes are reported
    assert main(args) == 0
    again = json.loads((out / "report.json").read_text())
    assert {k: v["accuracy"] for k, v in again["arms"].items()} == {
        k: v["accuracy"] for k, v in report["arms"].items()
    }

    # `vzero-train demo` ends with this summary of the quick sandbox (resumed here: nothing retrains)
    import vzero_train.commands.sandbox as sandbox_command
    from vzero_train.commands.demo import sandbox_summary

    monkeypatch.setattr(sandbox_command, "default_recipe", lambda: recipe)
    capsys.readouterr()
    sandbox_summary(out)
    printed = capsys.readouterr().out.split("== what was learned", 1)[1]
    assert "with the positive" in printed and "with the downsampled_distractor" in printed
    for name, arm in again["arms"].items():
        assert f"{name:<30} {arm['accuracy']:6.1%}" in printed


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--seeds", "0"], "--seeds must be at least 1"),
        (["--arms", ","], "--arms names no arm"),
        (["--recipe", "missing.yaml"], "no such recipe"),
    ],
)
def test_sandbox_refuses_bad_arguments(tmp_path, capsys, extra, message):
    assert main(["sandbox", "--out", str(tmp_path / "o"), *extra]) == 2
    assert message in capsys.readouterr().err
