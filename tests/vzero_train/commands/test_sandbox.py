import json
from pathlib import Path

import pytest

from vzero_train.cli import main


@pytest.mark.e2e
def test_quick_sandbox_teacher_reads_the_crop_and_every_arm_is_trained_and_evaluated(tmp_path, capsys):
    """The real `--quick` run (a few minutes on 2 cores), with the random-crop arm added."""
    out = tmp_path / "out"
    arms = "base,plain,gate_downsampled_distractor,random_crop"
    args = ["sandbox", "--out", str(out), "--quick", "--arms", arms]
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
        assert arm["n"] == 64 and 0 <= arm["ci_low"] <= arm["accuracy"] <= arm["ci_high"] <= 1
        assert all(Path(c, "config.json").is_file() for c in arm["checkpoints"])
    assert (
        report["arms"]["plain"]["gate"] == {} and "gate/weight_mean" in report["arms"]["random_crop"]["gate"]
    )
    assert report["arms"]["plain"]["by_step"].keys() == {"2", "4"}  # intermediate checkpoints evaluated
    views = report["teacher"]["views"]
    assert {"positive", "none", "downsampled_distractor", "masked", "cross_image"} <= set(views)
    # the teacher learned to read the crop: the sandbox is only meaningful with this margin
    assert views["positive"]["accuracy"] >= 0.7, views
    for negative in ("downsampled_distractor", "masked", "none"):
        assert views["positive"]["accuracy"] - views[negative]["accuracy"] >= 0.4, views
    assert report["world"]["shortcut"]["n"] == 64 and report["world"]["sizes"]["test"] == 64
    assert {(p["a"], p["b"]) for p in report["paired"]} >= {
        ("plain", "base"),
        ("gate_downsampled_distractor", "plain"),
    }
    assert (out / "eval" / "plain" / "seed0" / "step_2" / "results.json").is_file()
    # a final checkpoint evaluates with `vzero-train eval` as a user would run it
    final = report["arms"]["gate_downsampled_distractor"]["checkpoints"][0]
    eval_args = ["eval", "--model", str(Path(final).parent), "--data", str(out / "world" / "test")]
    eval_args += ["--format", "synthetic", "--out", str(tmp_path / "again"), "--limit", "8", "--no-plot"]
    assert main(eval_args) == 0
    assert json.loads((tmp_path / "again" / "results.json").read_text())
    assert "| gate_downsampled_distractor |" in (out / "report.md").read_text()

    # a rerun resumes: every stage is found done, the same outcomes are reported
    assert main(args) == 0
    again = json.loads((out / "report.json").read_text())
    assert {k: v["accuracy"] for k, v in again["arms"].items()} == {
        k: v["accuracy"] for k, v in report["arms"].items()
    }

    # `vzero-train demo` ends with this summary of the quick sandbox (resumed here: nothing retrains)
    from vzero_train.commands.demo import sandbox_summary

    capsys.readouterr()
    sandbox_summary(out)
    printed = capsys.readouterr().out.split("== what was learned", 1)[1]
    assert "with the positive crop" in printed and "with downsampled_distractor" in printed
    for name in ("base", "plain", "gate_downsampled_distractor"):  # the demo's arms: the quick default
        assert f"{name:<30} {again['arms'][name]['accuracy']:6.1%}" in printed


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
