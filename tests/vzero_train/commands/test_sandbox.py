import json
from pathlib import Path

import pytest

from vzero_train.cli import main

QUICK_ARMS = {"base", "plain", "gate_distractor"}


@pytest.mark.e2e
def test_quick_sandbox_teacher_reads_the_crop_and_on_policy_distillation_teaches(tmp_path, capsys):
    """The real `--quick` run (a few minutes on 2 cores): the big-small world, a teacher that reads
    the crop, a base student, plain and gated OPD, every checkpoint evaluated, and a resume."""
    out = tmp_path / "out"
    args = ["sandbox", "--out", str(out), "--quick"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    for stage in (
        "[1/6] world (big_small)",
        "[2/6] teacher",
        "[3/6] teacher check",
        "[4/6] base student",
        "[5/6] arms",
        "[6/6] evaluation",
    ):
        assert stage in printed
    report = json.loads((out / "report.json").read_text())
    assert set(report["arms"]) == QUICK_ARMS
    for arm in report["arms"].values():
        assert arm["n"] == 150 and 0 <= arm["ci_low"] <= arm["accuracy"] <= arm["ci_high"] <= 1
        assert all(Path(c, "config.json").is_file() for c in arm["checkpoints"])
        assert arm["greedy"]["n"] == 150 and 0 <= arm["greedy"]["unparseable"] <= 1
    assert report["arms"]["plain"]["gate"] == {}
    assert "gate/weight_mean" in report["arms"]["gate_distractor"]["gate"]
    assert report["arms"]["plain"]["by_step"].keys() == {"0", "30", "60"}  # base, then each checkpoint
    views = report["teacher"]["views"]
    assert {"positive", "none", "distractor", "masked", "degraded", "random_positive"} == set(views)
    # the teacher learned to read the crop: the sandbox is only meaningful with this margin
    assert views["positive"]["accuracy"] >= 0.8, views
    for negative in ("distractor", "masked", "none"):
        assert views["positive"]["accuracy"] - views[negative]["accuracy"] >= 0.4, views
    # a degraded crop keeps the target's colour, so in this world it removes no evidence
    assert views["degraded"]["accuracy"] >= views["positive"]["accuracy"] - 0.1, views
    assert report["world"]["shortcut"]["n"] == 150 and report["world"]["sizes"]["test"] == 150
    assert {(p["a"], p["b"]) for p in report["paired"]} == {
        ("plain", "base"),
        ("gate_distractor", "base"),
        ("gate_distractor", "plain"),
    }
    # on-policy distillation, reading no answer, lifts the base student (+9 points measured)
    assert report["arms"]["plain"]["accuracy"] > report["arms"]["base"]["accuracy"], report["arms"]
    assert (out / "eval" / "plain" / "seed0" / "step_30" / "results.json").is_file()
    greedy = out / "eval_greedy" / "plain" / "seed0" / "step_60" / "results.json"
    settings = json.loads(greedy.read_text())["settings"]
    assert settings["scoring"] == "generate"
    # a final checkpoint evaluates with `vzero-train eval` as a user would run it
    final = report["arms"]["gate_distractor"]["checkpoints"][0]
    eval_args = ["eval", "--model", final, "--data", str(out / "stores" / "test"), "--format", "store"]
    eval_args += ["--scoring", "option", "--out", str(tmp_path / "again"), "--limit", "8", "--no-plot"]
    assert main(eval_args) == 0
    again_rows = (tmp_path / "again" / "predictions").glob("*/*.jsonl")
    rows = [json.loads(line) for f in again_rows for line in f.read_text().splitlines()]
    assert len(rows) == 8 and all(r["prediction"] is not None for r in rows)
    assert "| gate_distractor |" in (out / "report.md").read_text()

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
    assert "with the positive crop" in printed and "with a distractor crop" in printed
    for name in QUICK_ARMS:
        assert f"{name:<30} {again['arms'][name]['accuracy']:6.1%}" in printed
    lift = next(p for p in again["paired"] if (p["a"], p["b"]) == ("plain", "base"))
    assert f"plain minus the base student: {100 * lift['difference']:+.1f} points" in printed


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--seeds", "0"], "--seeds must be at least 1"),
        (["--arms", ","], "--arms names no arm"),
        (["--arms", "base,gate_nowhere"], "unknown arm 'gate_nowhere'"),
        (["--recipe", "missing.yaml"], "no such recipe"),
    ],
)
def test_sandbox_refuses_bad_arguments(tmp_path, capsys, extra, message):
    assert main(["sandbox", "--out", str(tmp_path / "o"), *extra]) == 2
    assert message in capsys.readouterr().err
