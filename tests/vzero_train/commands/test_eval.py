import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vzero_data.synth import write_scenes
from vzero_train.cli import main

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.e2e
def test_eval_end_to_end_on_synthetic_scenes(tmp_path):
    from vzero_core.tiny_models import save_tiny_vlm

    for step, seed in ((0, 0), (10, 1)):
        save_tiny_vlm("qwen2_5_vl", tmp_path / "run" / f"checkpoint-{step}", image_size=224, seed=seed)
    write_scenes(tmp_path / "synth", 6, size=128, seed=3, progress=False)
    out = tmp_path / "eval"
    cmd = [
        sys.executable,
        "-m",
        "vzero_train.cli",
        "eval",
        "--data",
        str(tmp_path / "synth"),
        "--out",
        str(out),
    ]
    cmd += [
        "--model",
        str(tmp_path / "run" / "checkpoint-0"),
        "--model",
        str(tmp_path / "run" / "checkpoint-10"),
    ]
    cmd += ["--batch-size", "4", "--max-new-tokens", "8", "--device", "cpu", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr

    assert {p.name for p in out.iterdir()} == {
        "results.json",
        "report.md",
        "accuracy_vs_step.png",
        "predictions",
    }
    report = json.loads((out / "results.json").read_text())
    assert [(c["label"], c["step"]) for c in report["checkpoints"]] == [
        ("checkpoint-0", 0),
        ("checkpoint-10", 10),
    ]
    assert report["settings"]["max_new_tokens"] == 8 and report["settings"]["interval"] == "wilson"
    markdown = (out / "report.md").read_text()
    for ckpt in report["checkpoints"]:
        entry = ckpt["benchmarks"]["synth"]
        overall = entry["overall"]
        predictions = [
            json.loads(line)
            for line in (out / "predictions" / ckpt["label"] / "synth.jsonl").read_text().splitlines()
        ]
        assert overall["n"] == len(predictions) == 6 and entry["skipped"] == []
        assert overall["correct"] == sum(p["correct"] for p in predictions)
        assert overall["unparseable"] == sum(p["prediction"] is None for p in predictions)
        assert overall["ci_low"] <= overall["accuracy"] <= overall["ci_high"]
        assert sum(c["n"] for c in entry["categories"].values()) == 6
        assert ckpt["average"] == overall["accuracy"]
        assert f"| {ckpt['label']} | {ckpt['step']} | {100 * overall['accuracy']:.1f} [" in markdown
    assert "| checkpoint | step | synth | average |" in proc.stdout
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("time per stage: load models ") and "answer synth " in last, last


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--format", "vstar", "--format", "hrbench"], "give --format once per --data (1), got 2"),
        (["--step", "1", "--step", "2"], "give --step once per --model (1), got 2"),
        (["--judge-url", "http://localhost:1"], "--judge-url and --judge-model go together"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--student-template", "{question}"], "student template must contain <image> exactly once"),
        (["--format", "coco"], "unknown benchmark format 'coco'"),
    ],
)
def test_eval_argument_errors(tmp_path, capsys, extra, message):
    write_scenes(tmp_path / "synth", 1, size=128, progress=False)
    argv = ["eval", "--model", "m", "--data", str(tmp_path / "synth"), "--out", str(tmp_path / "o"), *extra]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_eval_unknown_source_and_model(tmp_path, capsys):
    assert main(["eval", "--model", "m", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "benchmark source not found" in capsys.readouterr().err
    write_scenes(tmp_path / "synth", 1, size=128, progress=False)
    argv = [
        "eval",
        "--model",
        str(tmp_path / "no-model"),
        "--data",
        str(tmp_path / "synth"),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 2
    assert f"error: no such folder: {tmp_path / 'no-model'}" in capsys.readouterr().err


@pytest.mark.parametrize(
    "models, labels",
    [
        (["runs/a/checkpoint-20", "runs/b/checkpoint-20/"], ["checkpoint-20", "checkpoint-20_2"]),
        (["Qwen/Qwen2.5-VL-3B-Instruct", "runs/my model"], ["Qwen2.5-VL-3B-Instruct", "my_model"]),
    ],
)
def test_checkpoint_labels(models, labels):
    from vzero_train.commands.eval import _labels

    assert _labels(models) == labels
