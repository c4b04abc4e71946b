import json

import pytest

from vzero_train.cli import main
from vzero_train.commands.demo import moved_paths


@pytest.mark.parametrize(
    "section, out, expected",
    [
        ({"store": "demo_out/store", "steps": 8}, "runs/x", {"store": "runs/x/store"}),
        ({"a": {"b": "demo_out/synth", "c": "other/demo_out/y"}}, "o/", {"a.b": "o/synth"}),
        ({"student": "tiny:qwen2_5_vl", "teacher": {"path": "tiny:qwen2_5_vl"}}, "o", {}),
    ],
)
def test_moved_paths(section, out, expected):
    assert moved_paths(section, out) == expected


@pytest.mark.e2e
def test_full_demo_curates_trains_and_resumes(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n", "4", "--steps", "2", "--no-progress", "--no-sandbox"]) == 0
    printed = capsys.readouterr().out
    assert "full demo finished" in printed and "gate/weight_mean" in printed
    assert "eval/synth/accuracy" in printed, "the demo validates on its scenes"
    steps = [json.loads(line)["step"] for line in (out / "train" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2], "step 0: the untrained student's evaluation"
    assert (out / "train" / "eval" / "step_2" / "synth.jsonl").is_file()
    assert (out / "train" / "checkpoints" / "step_2" / "model" / "config.json").is_file()
    assert (out / "preview" / "contact_sheet.png").is_file()

    assert main(["demo", "--out", str(out), "--n", "4", "--steps", "3", "--no-progress", "--no-sandbox"]) == 0
    printed = capsys.readouterr().out
    assert "nothing to do: 4 samples already curated" in printed
    steps = [json.loads(line)["step"] for line in (out / "train" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [0, 1, 2, 3], "the second run resumes from step 2"

    assert main(["demo", "--out", str(out), "--n", "4", "--steps", "3", "--no-progress", "--no-sandbox"]) == 0
    printed = capsys.readouterr().out
    summary = printed.split("== training summary", 1)[1]
    assert "(no steps logged)" not in summary
    assert f"step 3 (logged earlier, {out / 'train' / 'metrics.jsonl'})" in summary
    assert "gate/weight_mean" in summary, "a finished run still shows its last step's metrics"
