"""What the README shows runs and says what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_block_after(heading: str) -> str:
    """The first ```python block under ``heading`` in the README."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_the_python_example_curates_and_trains(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    exec(compile(python_block_after("### The same from Python"), "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "kept: 16 samples" in out and "time per stage: load models " in out
    assert (tmp_path / "demo_out" / "train" / "checkpoints" / "step_2").is_dir()
