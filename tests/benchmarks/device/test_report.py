"""The report files: rewritten whole after every measurement, readable at any point."""

from __future__ import annotations

import json

import pytest

from benchmarks.device.report import JSON_NAME, MD_NAME, Report, cell, render_markdown


@pytest.mark.parametrize(
    "value, text",
    [
        (None, "-"),
        (float("nan"), "-"),
        (True, "True"),
        (16, "16"),
        (0.000123456, "0.000123"),
        (3.14159, "3.14"),
        (789.4, "789"),
        (12345.6, "12,346"),
        ("a", "a"),
    ],
)
def test_cells(value, text):
    assert cell(value) == text


def test_every_save_writes_both_files_with_what_is_there_so_far(tmp_path):
    report = Report(tmp_path, {"mode": "gpu", "machine": "H100", "commit": "abc"})
    part = report.part("sanity")
    rows = part.table("bf16 matrix product", ["n", "TFLOP/s"])
    rows.append([8192, 798.4])
    part.save()
    data = json.loads((tmp_path / JSON_NAME).read_text())
    assert data["parts"]["sanity"]["status"] == "running"
    assert data["parts"]["sanity"]["tables"][0]["rows"] == [[8192, 798.4]]
    md = (tmp_path / MD_NAME).read_text()
    assert "## sanity: running (0 s)" in md
    assert "| n | TFLOP/s |\n|---|---|\n| 8192 | 798 |" in md

    part.entry.update(status="failed", error="RuntimeError: boom")
    part.note("a note")
    part.save()
    md = (tmp_path / MD_NAME).read_text()
    assert "## sanity: failed" in md and "RuntimeError: boom" in md and "- a note" in md


def test_header_lines_come_first():
    md = render_markdown({"mode": "cpu-smoke", "machine": "CPU", "commit": "abc", "parts": {}})
    assert md.splitlines()[:4] == ["# vzero device check (cpu-smoke)", "", "- machine: CPU", "- commit: abc"]
