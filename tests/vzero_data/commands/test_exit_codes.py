"""Exit codes of runs that keep nothing: a non-empty source whose every row is rejected, and an
empty source, both fail (exit 1) and say why; a run that keeps most samples but rejects over half
warns, naming the reason and what to change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from vzero_data.cli import main
from vzero_data.synth import write_scenes


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def recipe(tmp_path: Path, source: Path, adapter: str = "jsonl", strategy: str = "masked") -> Path:
    data = {
        "name": "t",
        "source": {"adapter": adapter, "path": str(source)},
        "grounding": {"selection": {"max_area_ratio": 1.0}},  # large boxes are fine evidence here
        "crop": {"margin_ratio": 0.5},
        "negatives": [{"strategy": strategy}],
        "execution": {"workers": 0},
    }
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


BAD_ROWS = [
    {"id": "a", "image": "nope.png", "question": "What colour?", "bbox": [1, 1, 5, 5]},
    {"id": "b", "image": "nope2.png", "question": "Which shape?", "bbox": [1, 1, 5, 5]},
]


@pytest.mark.parametrize(
    "rows, expected",
    [
        (
            BAD_ROWS,
            ["kept 0 of 2 rows read from", "top reasons: image_missing (2, 100%)", "source.image_root"],
        ),
        ([], ["the source has no rows"]),
    ],
    ids=["all-rejected", "empty"],
)
def test_curate_that_keeps_nothing_fails(tmp_path, capsys, rows, expected):
    src = write_jsonl(tmp_path / "rows.jsonl", rows)
    code = main(["curate", str(recipe(tmp_path, src)), "--out", str(tmp_path / "store"), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 1
    err_lines = captured.err.strip().splitlines()
    assert err_lines[-1].startswith("vzero-data curate: error: ")
    for text in expected:
        assert text in err_lines[-1]
    if rows:
        assert f"read {len(rows)} rows, curated {len(rows)} samples" in captured.out
        assert "kept: 0 samples" in captured.out


@pytest.mark.parametrize(
    "rows, expected",
    [(BAD_ROWS, "kept 0 of 2 rows read from"), ([], "the source has no rows")],
    ids=["all-rejected", "empty"],
)
def test_ingest_that_keeps_nothing_fails(tmp_path, capsys, rows, expected):
    src = write_jsonl(tmp_path / "rows.jsonl", rows)
    code = main(["ingest", "--format", "jsonl", str(src), "--out", str(tmp_path / "store"), "--no-progress"])
    assert code == 1
    assert expected in capsys.readouterr().err


@pytest.fixture
def large_box_rows(tmp_path) -> Path:
    """Three scenes whose target box covers about half the image, one with its own small target."""
    write_scenes(tmp_path, 4, size=256, seed=1, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text().splitlines()]
    for row in rows[:3]:
        row["bbox"] = [40, 40, 220, 220]
    return write_jsonl(tmp_path / "rows.jsonl", rows)


def test_curate_warns_when_most_samples_are_rejected(tmp_path, capsys, large_box_rows):
    r = recipe(tmp_path, large_box_rows, strategy="downsampled_distractor")
    code = main(["curate", str(r), "--out", str(tmp_path / "store"), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "kept: 1 samples" in captured.out
    assert "views: window_exceeds_image: 3 (75%)" in captured.out
    (warning,) = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert "3 of 4 samples (75%) were rejected" in warning
    assert "window_exceeds_image" in warning and "masked, shuffled, degraded or cross_image" in warning


def test_curate_keeping_most_samples_does_not_warn(tmp_path, capsys, large_box_rows):
    r = recipe(tmp_path, large_box_rows, strategy="masked")
    assert main(["curate", str(r), "--out", str(tmp_path / "store"), "--no-progress"]) == 0
    assert "warning:" not in capsys.readouterr().err


def test_rerun_with_nothing_left_to_do_succeeds(tmp_path, capsys, large_box_rows):
    r = recipe(tmp_path, large_box_rows, strategy="masked")
    argv = ["curate", str(r), "--out", str(tmp_path / "store"), "--no-progress"]
    assert main(argv) == 0
    assert main(argv) == 0
    assert "nothing to do: 4 samples already curated" in capsys.readouterr().out
