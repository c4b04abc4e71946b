"""The entry point: each part in its own try block under its own cap, the report written as it goes;
and the CPU smoke run of every part, as CI runs it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks.device import check
from benchmarks.device.budget import Budget
from benchmarks.device.report import JSON_NAME, MD_NAME, Report

ROOT = Path(__file__).resolve().parents[3]


def context(tmp_path, seconds=60.0, caps=None):
    sizes = check.Sizes(caps=caps or dict.fromkeys(check.PARTS, 30.0))
    return check.Context("cpu", sizes, tmp_path, Budget(seconds), Report(tmp_path / "out", {}), strict=True)


def test_a_failing_or_overrunning_part_is_recorded_and_the_next_one_still_runs(tmp_path, monkeypatch):
    def measures(ctx, part):
        part.table("t", ["x"]).append([1])
        part.save()

    def fails(ctx, part):
        part.note("got this far")
        raise ValueError("boom")

    def overruns(ctx, part):
        time.sleep(10)

    parts = {"environment": fails, "sanity": overruns, "plan": measures}
    monkeypatch.setattr(check, "PARTS", parts)
    ctx = context(tmp_path, caps={"environment": 30, "sanity": 0.3, "plan": 30})
    assert [check.run_part(name, ctx) for name in parts] == ["failed", "stopped", "ok"]
    data = json.loads((tmp_path / "out" / JSON_NAME).read_text())["parts"]
    assert "ValueError: boom" in data["environment"]["error"]
    assert data["environment"]["notes"] == ["got this far"]  # what it recorded before failing stays
    assert data["sanity"]["error"] == "stopped at its limit of 0.3 s" and data["sanity"]["seconds"] < 3
    assert data["plan"]["tables"][0]["rows"] == [[1]]


def test_a_part_does_not_start_with_the_budget_nearly_spent(tmp_path, monkeypatch):
    monkeypatch.setattr(check, "PARTS", {"plan": lambda ctx, part: pytest.fail("must not start")})
    assert check.run_part("plan", context(tmp_path, seconds=check.MIN_START_S - 1)) == "stopped"


@pytest.mark.parametrize(
    "argv, budget, parts",
    [
        (["--out", "o"], 420.0, list(check.PARTS)),
        (["--out", "o", "--cpu-smoke"], 300.0, list(check.PARTS)),
        (["--out", "o", "--parts", "opd, grounding", "--budget-s", "200"], 200.0, ["opd", "grounding"]),
    ],
)
def test_arguments(argv, budget, parts):
    args = check.parse_args(argv)
    assert (args.budget_s, args.parts) == (budget, parts)


def test_unknown_parts_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        check.parse_args(["--out", "o", "--parts", "plan,gpu"])
    assert exc.value.code == 2 and "unknown parts gpu" in capsys.readouterr().err


def test_without_a_gpu_the_gpu_run_refuses(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert check.main(["--out", str(tmp_path)]) == 2
    assert "--cpu-smoke" in capsys.readouterr().err


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_cpu_smoke_runs_every_part(tmp_path):
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "benchmarks/device/check.py", "--cpu-smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads((out / JSON_NAME).read_text())
    assert data["mode"] == "cpu-smoke"
    assert list(data["parts"]) == list(check.PARTS)
    for name, part in data["parts"].items():
        assert part["status"] == "ok", (name, part.get("error"))
        assert part["tables"] and all(t["rows"] for t in part["tables"]), name
    opd = data["parts"]["opd"]["data"]
    assert opd["steps"]["gated"] and opd["steps"]["plain"]
    assert (out / MD_NAME).read_text().startswith("# vzero device check (cpu-smoke)")


def test_commit_without_git_comes_from_the_wheels_stamp(tmp_path, monkeypatch):
    from benchmarks.device import wheels

    (tmp_path / "source.json").write_text('{"commit": "abc123"}')
    monkeypatch.setattr(wheels, "WHEEL_DIR", tmp_path)
    monkeypatch.setattr(wheels, "git_commit", lambda: "unknown")
    assert check.commit(None) == "abc123 (recorded when the wheels were downloaded)"
    assert check.commit("given") == "given"
    monkeypatch.setattr(wheels, "git_commit", lambda: "def456")
    assert check.commit(None) == "def456"
