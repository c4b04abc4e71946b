import json

from vzero_train.cli import main
from vzero_train.evaluate.report import build_report, checkpoint_entry, write_report
from vzero_train.evaluate.runner import EvalResult
from vzero_train.evaluate.scoring import ItemResult


def _run_dir(path, step, correct):
    results = EvalResult(
        "synth",
        [
            ItemResult(
                f"q{i}",
                "synth",
                "color",
                "Q?",
                ("x", "y"),
                "A",
                "A",
                "A" if i < correct else "B",
                i < correct,
            )
            for i in range(4)
        ],
    )
    entry = checkpoint_entry(f"checkpoint-{step}", f"run/checkpoint-{step}", {"synth": results}, step=step)
    settings = {"batch_size": 8, "max_new_tokens": 64, "confidence": 0.95}
    write_report(
        build_report(
            [entry], settings=settings, benchmarks=[{"name": "synth", "format": "synthetic", "src": "s"}]
        ),
        path,
    )
    return path


def test_eval_report_merges_runs(tmp_path, capsys):
    runs = [_run_dir(tmp_path / f"r{s}", s, c) for s, c in ((20, 3), (0, 1))]
    assert (
        main(["eval-report", str(runs[0]), str(runs[1] / "results.json"), "--out", str(tmp_path / "all")])
        == 0
    )
    out = capsys.readouterr().out
    assert "| checkpoint-20 | 20 | 75.0 [" in out and "| checkpoint-0 | 0 | 25.0 [" in out
    merged = json.loads((tmp_path / "all" / "results.json").read_text())
    assert [c["step"] for c in merged["checkpoints"]] == [0, 20], "rows follow training, not argument order"
    assert (tmp_path / "all" / "accuracy_vs_step.png").is_file() and (
        tmp_path / "all" / "report.md"
    ).is_file()


def test_eval_report_rejects_other_files(tmp_path, capsys):
    (tmp_path / "x.json").write_text("[]")
    assert main(["eval-report", str(tmp_path / "x.json"), "--out", str(tmp_path / "o")]) == 2
    assert "x.json: not vzero evaluation results (format None, expected 1)" in capsys.readouterr().err
