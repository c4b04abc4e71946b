"""The ``vzero-data curate`` command, run as a user runs it: in a subprocess, killed, resumed."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


@pytest.mark.e2e
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
    from vzero_core.recipe_base import apply_overrides
    from vzero_data.cli import main

    recipe = write_recipe(tmp_path / "r.yaml", apply_overrides(recipe_data(scenes), overrides))
    code = main(["curate", str(recipe), "--out", str(tmp_path / "store"), *extra])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "store").exists()


def _data_batches(store: Path) -> int:
    shards = store / "shards"
    return sum(1 for d in shards.iterdir() if (d / "samples.parquet").exists()) if shards.is_dir() else 0


@pytest.mark.e2e
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


def _descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start_run_with_workers(
    tmp_path: Path, n: int, **popen: Any
) -> tuple[subprocess.Popen, Path, Path, set[int]]:
    """A curate run of ``n`` scenes with two workers, once it has published a batch and its helper
    processes are up: ``(process, recipe, store, helper pids)``."""
    scenes = tmp_path / "scenes"
    write_scenes(scenes, n, size=640, seed=3, progress=False)
    data = recipe_data(
        scenes, "store.shard_max_mb=0.000001", "execution.workers=2", "execution.samples_per_task=1"
    )
    recipe = write_recipe(tmp_path / "r.yaml", data)
    store = tmp_path / "store"
    proc = subprocess.Popen(
        curate_cmd(recipe, store, "--no-progress"), env=ENV, stdout=subprocess.DEVNULL, **popen
    )
    deadline = time.monotonic() + 120
    helpers: set[int] = set()
    # The fork server, the resource tracker and both workers (children of the fork server).
    while (_data_batches(store) < 1 or len(helpers) < 4) and time.monotonic() < deadline:
        assert proc.poll() is None, "the run finished before it could be stopped"
        helpers = _descendants(proc.pid)
        time.sleep(0.05)
    assert len(helpers) >= 4, helpers
    return proc, recipe, store, helpers


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_sigkill_of_the_main_process_leaves_no_workers_and_the_next_run_marks_it_interrupted(tmp_path):
    proc, recipe, store, helpers = start_run_with_workers(tmp_path, 12, stderr=subprocess.DEVNULL)
    os.kill(proc.pid, signal.SIGKILL)  # the main process only, as the OOM killer does
    proc.wait()
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in helpers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in helpers if _alive(p)], "processes outlived the killed run"

    from vzero_data.store import open_store

    runs = open_store(store).query("SELECT status FROM runs").column("status").to_pylist()
    assert runs == ["running"]
    resumed = run(curate_cmd(recipe, store, "--no-progress"))
    assert resumed.returncode == 0, resumed.stderr
    statuses = sorted(open_store(store).query("SELECT status FROM runs").column("status").to_pylist())
    assert statuses == ["finished", "interrupted"]


@pytest.mark.e2e
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process tree from /proc")
def test_ctrl_c_stops_the_run_with_one_line_and_no_worker_output(tmp_path):
    """Ctrl-C goes to the whole process group: the run, its fork server and its workers. Only the
    run may answer it (`interrupted`, exit 130); a worker printing `Process ForkServerProcess-1:` and
    its KeyboardInterrupt traceback is what a user saw before."""
    proc, _, _, _ = start_run_with_workers(
        tmp_path,
        24,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job has
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err == "vzero-data curate: interrupted\n"


def _scenes_with_rejects(root: Path) -> Path:
    """Scenes plus rows that become rejects: a missing image, no box, and repeats of earlier rows."""
    scenes = write_test_scenes(root)
    manifest = scenes / "manifest.jsonl"
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    with open(manifest, "a", encoding="utf-8") as fh:
        for i in (0, 3, 6):
            fh.write(json.dumps({**rows[i], "id": f"repeat-{i}"}) + "\n")
    return scenes


@pytest.mark.e2e
def test_kill_loop_with_rejects_ends_in_the_store_of_an_uninterrupted_run(tmp_path):
    import random

    from vzero_data.pipeline import recipe_from_mapping
    from vzero_data.pipeline.runner import curate

    scenes = _scenes_with_rejects(tmp_path / "scenes")
    data = recipe_data(scenes, "store.shard_max_mb=0.000001")
    recipe = write_recipe(tmp_path / "r.yaml", data)
    store = tmp_path / "killed"
    rng = random.Random(0)
    for _ in range(6):
        proc = subprocess.Popen(
            curate_cmd(recipe, store, "--no-progress"),
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        before, deadline = _data_batches(store), time.monotonic() + 120
        # Kill at a random moment once this run has committed something (or it ends by itself).
        while _data_batches(store) <= before and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(rng.uniform(0, 0.5))
        if proc.poll() is not None:
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    final = run(curate_cmd(recipe, store, "--no-progress"))
    assert final.returncode == 0, final.stderr
    curate(recipe_from_mapping(data, "r.yaml"), tmp_path / "full")
    killed, full = snapshot(store), snapshot(tmp_path / "full")
    assert killed == full
    assert sum(r["reason"] == "duplicate_sample" for r in full["rejects"]) == 3


@pytest.mark.e2e
@pytest.mark.parametrize("shards", [("0/1", "0/1"), ("0/2", "1/2")], ids=["identical-runs", "two-shards"])
def test_launches_started_together_on_a_new_store_leave_the_store_of_one_run(scenes, tmp_path, shards):
    from vzero_data.pipeline import recipe_from_mapping
    from vzero_data.pipeline.runner import curate
    from vzero_data.store import open_store

    data = recipe_data(scenes, "store.shard_max_mb=0.000001")
    recipe = write_recipe(tmp_path / "r.yaml", data)
    store = tmp_path / "shared"
    procs = [
        subprocess.Popen(
            curate_cmd(recipe, store, "--no-progress", "--shard", shard),
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for shard in shards
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    curate(recipe_from_mapping(data, "r.yaml"), tmp_path / "one")
    assert snapshot(store) == snapshot(tmp_path / "one")
    twice = open_store(store).query(
        "SELECT sample_id, config_hash FROM samples GROUP BY ALL HAVING count(*) > 1"
    )
    assert twice.num_rows == 0


def test_print_config_shows_the_recipe_as_it_would_run_and_touches_nothing(scenes, tmp_path, capsys):
    from vzero_data.cli import main

    recipe = write_recipe(tmp_path / "r.yaml", recipe_data(scenes))
    argv = ["curate", str(recipe), "--out", str(tmp_path / "store"), "--set", "execution.workers=3"]
    assert main([*argv, "--print-config"]) == 0
    printed = capsys.readouterr().out
    first = printed.splitlines()[0]
    assert first.startswith("# r.yaml as it would run (defaults filled in, --set applied); config hash ")
    data = yaml.safe_load(printed)
    assert data["execution"]["workers"] == 3 and data["crop"]["margin_ratio"] is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.yaml"]


def test_dry_run_checks_what_curate_checks_and_writes_nothing(scenes, tmp_path, capsys):
    from vzero_data.cli import main
    from vzero_data.store import open_store

    recipe = write_recipe(tmp_path / "r.yaml", recipe_data(scenes))
    store = tmp_path / "store"
    assert main(["curate", str(recipe), "--out", str(store), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"checked: recipe, source {scenes} ({N_ROWS} rows)" in out
    assert f"store {store} would be created" in out and "nothing was run" in out
    assert not store.exists()
    open_store(store, create=True)
    assert main(["curate", str(recipe), "--out", str(store), "--dry-run"]) == 0
    assert f"store {store} holds 0 samples already curated under it" in capsys.readouterr().out
    missing = write_recipe(tmp_path / "m.yaml", recipe_data(tmp_path / "nowhere"))
    assert main(["curate", str(missing), "--out", str(store), "--dry-run"]) == 2
    assert "m.yaml: source.path:" in capsys.readouterr().err
    no_teacher = write_recipe(
        tmp_path / "a.yaml", {**recipe_data(scenes), "audit": {"teacher": str(tmp_path / "no-teacher")}}
    )
    assert main(["curate", str(no_teacher), "--out", str(store), "--dry-run"]) == 2
    assert "audit.teacher:" in capsys.readouterr().err
