"""The ``vzero-data curate`` command, run as a user runs it: in a subprocess, killed, resumed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from vzero_data.synth import write_scenes

from ..pipeline.conftest import N_ROWS, recipe_data, snapshot, write_test_scenes

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def curate_cmd(recipe: Path, store: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "vzero_data.cli", "curate", str(recipe), "--out", str(store), *extra]


def write_recipe(path: Path, data: dict) -> Path:
    path.write_text("# vzero-data curate " + path.name + " --out STORE\n" + yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def scenes(tmp_path_factory) -> Path:
    return write_test_scenes(tmp_path_factory.mktemp("scenes"))


def run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300)


@pytest.mark.slow
def test_cli_runs_then_says_nothing_to_do(scenes, tmp_path):
    recipe = write_recipe(tmp_path / "r.yaml", recipe_data(scenes))
    first = run(curate_cmd(recipe, tmp_path / "store", "--json"))
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert summary["kept"] + sum(r["count"] for r in summary["rejected"]) == N_ROWS
    second = run(curate_cmd(recipe, tmp_path / "store"))
    assert second.returncode == 0, second.stderr
    assert (
        f"nothing to do: {N_ROWS} samples already curated for config {summary['config_hash']}"
        in second.stdout
    )


@pytest.mark.parametrize(
    "overrides, extra, message",
    [
        (["negatives=[{strategy: masked, count: x}]"], [], "r.yaml: negatives[0].count: expected an integer"),
        ([], ["--shard", "2/2"], "shard 2/2: expected i/N"),
        ([], ["--workers", "-1"], "r.yaml: execution.workers: expected an integer >= 0 and <= 512, got -1"),
        (["source.path=/no/such/dir"], [], "/no/such/dir: no such file or directory"),
    ],
)
def test_cli_reports_bad_input_without_touching_the_store(
    scenes, tmp_path, overrides, extra, message, capsys
):
    from vzero_data.cli import main
    from vzero_data.pipeline.recipe import apply_overrides

    recipe = write_recipe(tmp_path / "r.yaml", apply_overrides(recipe_data(scenes), overrides))
    code = main(["curate", str(recipe), "--out", str(tmp_path / "store"), *extra])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "store").exists()


def _data_batches(store: Path) -> int:
    shards = store / "shards"
    return sum(1 for d in shards.iterdir() if (d / "samples.parquet").exists()) if shards.is_dir() else 0


@pytest.mark.slow
def test_sigkill_then_resume_equals_uninterrupted_run(tmp_path):
    scenes = tmp_path / "scenes"
    write_scenes(scenes, 24, size=640, seed=3, progress=False)
    # One sample per batch, so the kill lands between many small commits.
    data = recipe_data(scenes, "store.shard_max_mb=0.000001", "execution.workers=1")
    recipe = write_recipe(tmp_path / "r.yaml", data)
    store = tmp_path / "killed"

    proc = subprocess.Popen(
        curate_cmd(recipe, store, "--no-progress"), env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while _data_batches(store) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "the run finished before it could be killed: " + proc.stderr.read().decode()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    killed_at = _data_batches(store)
    assert 2 <= killed_at < 24

    resumed = run(curate_cmd(recipe, store, "--json", "--no-progress"))
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["already_done"] >= killed_at - 1 and summary["kept"] + summary["already_done"] == 24

    full = run(curate_cmd(recipe, tmp_path / "full", "--no-progress"))
    assert full.returncode == 0, full.stderr
    assert snapshot(store) == snapshot(tmp_path / "full")
