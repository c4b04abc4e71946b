"""Progress everywhere follows one rule: a bar on a terminal, plain periodic lines elsewhere,
nothing when switched off (the caller, ``TQDM_DISABLE``, or ``--no-progress`` / ``-q``)."""

from __future__ import annotations

import io
import time

import pytest

from vzero_core import progress as progress_mod
from vzero_core.progress import PlainProgress, activity, progress_bar, progress_disabled
from vzero_data.pipeline.progress import StageBars, count_source_rows


class FakeStderr(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture
def stderr(monkeypatch):
    def make(tty: bool) -> FakeStderr:
        fake = FakeStderr(tty)
        monkeypatch.setattr("sys.stderr", fake)
        return fake

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.setattr(PlainProgress, "interval", 0.0)
    return make


@pytest.mark.parametrize(
    "tty, env, enabled, cli_off, expected",
    [
        (True, None, True, False, "bar"),
        (False, None, True, False, "lines"),
        (True, "1", True, False, "off"),
        (False, "true", True, False, "off"),
        (True, "0", True, False, "bar"),  # tqdm's convention: a false word does not disable
        (True, None, False, False, "off"),
        (True, None, True, True, "off"),
        (False, None, True, True, "off"),
    ],
)
def test_progress_bar_kind(stderr, monkeypatch, tty, env, enabled, cli_off, expected):
    fake = stderr(tty)
    if env is not None:
        monkeypatch.setenv("TQDM_DISABLE", env)
    with progress_disabled(cli_off):
        bar = progress_bar(total=3, desc="work", unit="img", enabled=enabled)
        for _ in range(3):
            bar.update(1)
        bar.close()
    if expected == "lines":
        assert isinstance(bar, PlainProgress)
        assert fake.getvalue().splitlines()[-1].startswith("work: 3/3 img (")
        assert "\r" not in fake.getvalue()
    elif expected == "off":
        assert fake.getvalue() == ""
    else:
        assert not isinstance(bar, PlainProgress) and "3/3" in fake.getvalue()


def test_plain_line_shows_total_rate_and_eta():
    bar = PlainProgress(total=10, desc="eval", unit="q")
    bar.start -= 4.0
    bar.n = 4
    bar.set_postfix(acc="0.500")
    assert bar.line(bar.start + 4.0) == "eval: 4/10 q (1.00 q/s, elapsed 0:04, eta 0:06) acc=0.500"


def test_stage_lines_show_totals_and_eta(stderr):
    fake = stderr(False)
    with StageBars(True, total=8, pending=8) as bars:
        bars.start -= 2.0
        for stage in ("ingest", "ingest", "grounding", "views", "store"):
            bars.update(stage)
    last = fake.getvalue().splitlines()[-1]
    assert last.startswith("curate: ingest 2/8, grounding 1/8, views 1/8, store 1/8 (")
    assert "eta 0:06" in last


def test_stage_bars_on_a_terminal_show_totals(stderr):
    fake = stderr(True)
    with StageBars(True, total=5) as bars:
        bars.update("ingest", 5)
    assert "5/5" in fake.getvalue()


@pytest.mark.parametrize(
    "adapter, lines, limit, expected",
    [
        ("jsonl", 5, None, 5),
        ("jsonl", 5, 3, 3),
        ("synthetic", 4, None, 4),
        ("csv", 4, None, None),
        ("csv", 4, 2, 2),
    ],
)
def test_count_source_rows(tmp_path, adapter, lines, limit, expected):
    text = "".join("{}\n" for _ in range(lines)) + "\n"
    if adapter == "synthetic":
        (tmp_path / "manifest.jsonl").write_text(text)
        path = tmp_path
    else:
        path = tmp_path / f"rows.{adapter}"
        path.write_text(text)
    assert count_source_rows(adapter, str(path), limit) == expected


def test_module_has_no_global_state_left_after_cli_switch():
    with progress_disabled():
        assert not progress_mod.progress_allowed()
    assert progress_mod._disabled_depth == 0


def test_the_last_line_shows_the_postfix_set_after_the_last_update(stderr):
    """tqdm's calling order (update, then set_postfix) leaves the final numbers on the last line."""
    fake = stderr(False)
    bar = progress_bar(total=16, desc="eval", unit="q")
    for correct in (1, 2):
        bar.update(8)
        bar.set_postfix(acc=f"{correct / 16:.3f}")
    bar.close()
    assert fake.getvalue().splitlines()[-1].startswith("eval: 16/16 q (")
    assert fake.getvalue().splitlines()[-1].endswith("acc=0.125")


@pytest.fixture
def ticking(stderr, monkeypatch):
    """``ticking()``: non-terminal stderr (set in the test body, where pytest's capture no longer
    replaces it) and a 50 ms progress interval."""
    monkeypatch.setattr(PlainProgress, "interval", 0.05)
    return lambda: stderr(False)


def wait_for_lines(fake: FakeStderr, n: int, timeout: float = 5.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(fake.getvalue().splitlines()) < n and time.monotonic() < deadline:
        time.sleep(0.01)
    return fake.getvalue().splitlines()


def test_a_slow_step_still_prints_a_line_every_interval(ticking):
    fake = ticking()
    bar = progress_bar(total=2, desc="train", unit="step")
    lines = wait_for_lines(fake, 2)  # no update at all: one step that takes long
    bar.close()
    assert len(lines) >= 2 and all(line.startswith("train: 0/2 step (") for line in lines[:2])


def test_only_the_innermost_display_prints(ticking):
    fake = ticking()
    outer = progress_bar(total=3, desc="train", unit="step")
    inner = progress_bar(total=5, desc="eval", unit="q")
    lines = wait_for_lines(fake, 3)
    inner.close()
    outer.close()
    assert lines[:3] and all(line.startswith("eval: ") for line in lines[:3])
    assert fake.getvalue().splitlines()[-1].startswith("train: 0/3 step (")


def test_a_short_loop_prints_nothing(stderr):
    fake = stderr(False)
    PlainProgress.interval = 10.0  # restored by the fixture's monkeypatch
    for _ in progress_bar(range(3), desc="quick"):
        pass
    assert fake.getvalue() == ""


def test_work_without_a_count_shows_its_clock(ticking):
    fake = ticking()
    with activity("loading models"):
        lines = wait_for_lines(fake, 2)
    assert lines[0].startswith("loading models: elapsed 0:0")


def test_work_without_a_count_is_silent_when_progress_is_off(ticking):
    fake = ticking()
    with progress_disabled(), activity("loading models"):
        time.sleep(0.2)
    assert fake.getvalue() == ""


def test_stage_lines_keep_coming_while_no_sample_finishes(ticking):
    fake = ticking()
    with StageBars(True, total=8, pending=8):
        lines = wait_for_lines(fake, 2)
    assert lines[0].startswith("curate: ingest 0/8, grounding 0/8")


def test_processes_other_than_the_main_one_show_no_progress(stderr, monkeypatch):
    fake = stderr(False)
    monkeypatch.setenv("RANK", "1")
    bar = progress_bar(total=2, desc="train")
    bar.update(2)
    bar.close()
    assert fake.getvalue() == ""
