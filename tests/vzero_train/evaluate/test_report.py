import json

import pytest

from vzero_data.benchmarks.items import Skipped
from vzero_train.evaluate.report import (
    build_report,
    checkpoint_entry,
    comparison_table,
    load_report,
    merge_reports,
    render_markdown,
    step_from_name,
    write_report,
)
from vzero_train.evaluate.runner import EvalResult
from vzero_train.evaluate.scoring import ItemResult, wilson_interval


def _results(name, outcomes, category="all"):
    """``outcomes``: a string of c (correct), w (wrong), u (unparseable)."""
    return EvalResult(
        name,
        [
            ItemResult(
                f"{name}-{i}",
                name,
                category,
                "Q?",
                ("x", "y"),
                "A",
                f"resp {o}",
                None if o == "u" else "A" if o == "c" else "B",
                o == "c",
            )
            for i, o in enumerate(outcomes)
        ],
    )


def _report(steps=(None,)):
    ckpts = []
    for step in steps:
        vstar = _results("vstar", "ccccw" + "u" * (1 if step is None else 0))
        vstar.results += _results("vstar", "cw", category="relative").results
        vstar.skipped.append(Skipped("v9", "vstar", "image not found: v9.jpg"))
        hr = _results("hr4k", "cw" * ((step or 0) // 10 + 1))
        ckpts.append(
            checkpoint_entry(
                f"ckpt-{step}", f"runs/checkpoint-{step}", {"vstar": vstar, "hr4k": hr}, step=step
            )
        )
    benchmarks = [
        {"name": "vstar", "format": "vstar", "src": "/data/vstar"},
        {"name": "hr4k", "format": "hrbench", "src": "/data/hr.tsv"},
    ]
    return build_report(
        ckpts, settings={"batch_size": 4, "max_new_tokens": 64, "confidence": 0.95}, benchmarks=benchmarks
    )


@pytest.mark.parametrize(
    "name, step",
    [
        ("runs/a/checkpoint-60", 60),
        ("runs/a/global_step_120/", 120),
        ("step40", 40),
        ("ckpt_7", 7),
        ("Qwen/Qwen2.5-VL-3B-Instruct", None),
        ("runs/a/final", None),
    ],
)
def test_step_from_name(name, step):
    assert step_from_name(name) == step


def test_checkpoint_entry_scores_and_average():
    entry = _report()["checkpoints"][0]
    vstar = entry["benchmarks"]["vstar"]
    assert (
        vstar["overall"]["n"] == 8
        and vstar["overall"]["correct"] == 5
        and vstar["overall"]["unparseable"] == 1
    )
    assert (vstar["overall"]["ci_low"], vstar["overall"]["ci_high"]) == pytest.approx(wilson_interval(5, 8))
    assert vstar["categories"]["relative"]["n"] == 2
    assert vstar["skipped"] == [{"item_id": "v9", "reason": "image not found: v9.jpg"}]
    assert vstar["unparseable_examples"] == [{"item_id": "vstar-5", "response": "resp u"}]
    assert entry["average"] == pytest.approx((5 / 8 + 1 / 2) / 2)


def test_comparison_table_has_a_row_per_checkpoint():
    table = comparison_table(_report(steps=(0, 20)))
    lines = table.splitlines()
    assert lines[0] == "| checkpoint | step | vstar | hr4k | average |"
    assert lines[2] == "| ckpt-0 | 0 | 71.4 [35.9, 91.8] | 50.0 [9.5, 90.5] | 60.7 |"
    assert lines[3] == "| ckpt-20 | 20 | 71.4 [35.9, 91.8] | 50.0 [18.8, 81.2] | 60.7 |"


def test_markdown_shows_categories_skips_and_unparseable_responses():
    md = render_markdown(_report())
    assert "| **all** | 8 | 5 | 62.5 | [30.6, 86.3] | 1 | 0 |" in md
    assert "| relative | 2 | 1 | 50.0 | [9.5, 90.5] | 0 | 0 |" in md
    assert "Skipped 1 entries:\n- 1 x image not found: v9.jpg" in md
    assert 'Unparseable responses (1 of 1 shown):\n- `vstar-5`: "resp u"' in md
    assert "95% Wilson score intervals" in md


def test_write_and_load_report(tmp_path):
    report = _report(steps=(0, 10, 20))
    paths = write_report(report, tmp_path / "out")
    assert set(paths) == {"json", "markdown", "plot"}
    assert load_report(tmp_path / "out") == json.loads(paths["json"].read_text())
    assert paths["markdown"].read_text() == render_markdown(report)
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "plot" not in write_report(_report(), tmp_path / "single")


def test_load_report_rejects_other_files(tmp_path):
    (tmp_path / "results.json").write_text('{"format_version": 99}')
    with pytest.raises(ValueError, match=r"not vzero evaluation results \(format 99, expected 1\)"):
        load_report(tmp_path)


def test_merge_reports_unites_checkpoints_and_flags_differing_settings():
    a, b = _report(steps=(0,)), _report(steps=(20,))
    b["settings"]["max_new_tokens"] = 128
    b["benchmarks"].append({"name": "mme", "format": "mme_realworld", "src": "/m.json"})
    merged = merge_reports([a, b])
    assert [c["step"] for c in merged["checkpoints"]] == [0, 20]
    assert [x["name"] for x in merged["benchmarks"]] == ["vstar", "hr4k", "mme"]
    assert merged["settings"]["differs"] == ["max_new_tokens"]
    assert "differ in: max_new_tokens" in render_markdown(merged)
    assert "differs" not in merge_reports([a, _report(steps=(10,))])["settings"]
    with pytest.raises(ValueError, match="no reports"):
        merge_reports([])


def test_merged_average_covers_only_benchmarks_every_checkpoint_has():
    a = _report(steps=(0,))
    b = build_report(
        [
            checkpoint_entry(
                "other",
                "runs/other",
                {
                    "vstar": _results("vstar", "cc"),
                    "hr4k": _results("hr4k", "ww"),
                    "mme": _results("mme", "c"),
                },
                step=30,
            )
        ],
        settings=a["settings"],
        benchmarks=[*a["benchmarks"], {"name": "mme", "format": "mme_realworld", "src": "/m.json"}],
    )
    assert b["checkpoints"][0]["average"] == pytest.approx((1.0 + 0.0 + 1.0) / 3), "alone: all three"
    merged = merge_reports([a, b])
    assert merged["average_over"] == ["vstar", "hr4k"]
    averages = [c["average"] for c in merged["checkpoints"]]
    first = a["checkpoints"][0]["benchmarks"]
    expected_a = (first["vstar"]["overall"]["accuracy"] + first["hr4k"]["overall"]["accuracy"]) / 2
    assert averages == [pytest.approx(expected_a), pytest.approx(0.5)]
    header = comparison_table(merged).splitlines()[0]
    assert header == "| checkpoint | step | vstar | hr4k | mme | average (vstar, hr4k) |"


def test_markdown_names_the_protocol_and_shows_the_cycle_score():
    from dataclasses import replace

    hr = _results("hr4k", "ccwc")
    hr.results = [
        replace(r, group=f"g{i // 2}", rotation=f"cycle{i % 2 + 1}", protocol="HR-Bench TSV")
        for i, r in enumerate(hr.results)
    ]
    report = build_report(
        [checkpoint_entry("ckpt", "m", {"hr4k": hr})],
        settings={"batch_size": 4, "max_new_tokens": 64, "confidence": 0.95},
        benchmarks=[{"name": "hr4k", "format": "hrbench", "src": "/data/hr.tsv"}],
    )
    entry = report["checkpoints"][0]["benchmarks"]["hr4k"]
    assert entry["protocols"] == ["HR-Bench TSV"]
    assert (entry["cycle"]["strict"]["n"], entry["cycle"]["strict"]["correct"]) == (2, 1)
    text = render_markdown(report)
    assert "Protocol: HR-Bench TSV." in text
    assert "Cycle score" in text and "over 2 base questions" in text and ": 75.0." in text


def test_merged_rows_follow_training_steps_whatever_the_argument_order():
    runs = [_report(steps=(60,)), _report(steps=(None,)), _report(steps=(20,)), _report(steps=(40,))]
    merged = merge_reports(runs)
    assert [c["step"] for c in merged["checkpoints"]] == [20, 40, 60, None]
    rows = comparison_table(merged).splitlines()[2:]
    assert [row.split(" | ")[1] for row in rows] == ["20", "40", "60", ""]
