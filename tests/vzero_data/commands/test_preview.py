import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from vzero_data.cli import main

from ..preview.conftest import write_store

REPO = Path(__file__).resolve().parents[3]


def test_preview_from_a_views_folder(tmp_path, views_dir, capsys):
    assert main(["preview", "--views-dir", str(views_dir), "--out", str(tmp_path / "p"), "--n", "2"]) == 0
    assert "preview of 2 samples" in capsys.readouterr().out
    assert Image.open(tmp_path / "p" / "contact_sheet.png").size[0] > 0
    assert (tmp_path / "p" / "gallery.html").stat().st_size > 0


def test_preview_from_a_store(tmp_path, samples, capsys):
    store = write_store(tmp_path / "store", samples)
    assert main(["preview", "--store", str(store), "--out", str(tmp_path / "p")]) == 0
    assert "preview of 3 samples" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--views-dir", "nowhere"], "not a views folder"),
        (["--store", "nowhere"], "no such store"),
        (["--views-dir", "x", "--n", "0"], "--n must be at least 1"),
    ],
)
def test_preview_errors_are_one_line(tmp_path, args, message, capsys):
    assert main(["preview", *args, "--out", str(tmp_path / "p")]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.e2e
def test_preview_runs_as_a_subprocess(tmp_path, views_dir):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "vzero_data.cli",
            "preview",
            "--views-dir",
            str(views_dir),
            "--out",
            str(tmp_path / "p"),
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "p" / "gallery.html").exists()
