"""``vzero-data audit`` killed with SIGKILL mid-run resumes: the rerun audits only what was not
published, no sample is audited twice, and the rows equal those of an uninterrupted run."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.audit_world import build_split
from vzero_data.store import open_store

pytestmark = pytest.mark.e2e
N = 12


def _audit_batches(store: Path) -> int:
    return sum(
        1 for d in (store / "shards").iterdir() if (d / "audits.parquet").exists() and "schema" not in d.name
    )


def audit_cmd(store: Path, teacher: str, *extra: str) -> list[str]:
    args = [
        "audit",
        str(store),
        "--teacher",
        teacher,
        "--device",
        "cpu",
        "--batch-size",
        "1",
        "--no-progress",
    ]
    return [sys.executable, "-m", "vzero_data.cli", *args, "--set", "execution.flush_every=1", *extra]


def rows(store: Path) -> list[tuple]:
    table = open_store(store).query(
        "SELECT sample_id, context, strategy, round(logprob, 4) FROM audits ORDER BY ALL"
    )
    return [tuple(r.values()) for r in table.to_pylist()]


def test_sigkill_then_resume_equals_an_uninterrupted_audit(tmp_path):
    from vzero_core.tiny_models import save_tiny_vlm

    world = build_split(tmp_path, "test", N, seed=1005, negatives=[{"strategy": "masked"}])
    teacher = str(save_tiny_vlm("qwen2_5_vl", tmp_path / "teacher", hidden_size=64, image_size=112))
    killed, full = (shutil.copytree(world, tmp_path / name) for name in ("killed", "full"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1"}

    proc = subprocess.Popen(
        audit_cmd(killed, teacher), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 300
    while _audit_batches(killed) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the audit finished before it could be killed: " + proc.stderr.read().decode()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()
    published = _audit_batches(killed)
    assert 2 <= published < N

    resumed = subprocess.run(audit_cmd(killed, teacher, "--json"), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    outcome = json.loads(resumed.stdout)["outcome"]
    assert outcome["already_done"] == published and outcome["audited"] == N - published
    statuses = open_store(killed).query(
        "SELECT status FROM runs WHERE config_hash = ? ORDER BY started_at", [outcome["audit_hash"]]
    )
    statuses = statuses.column(0).to_pylist()
    assert statuses == ["interrupted", "finished"]

    done = subprocess.run(audit_cmd(full, teacher), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert rows(killed) == rows(full)
    negatives = open_store(full).query("SELECT count(*) FROM views WHERE kind = 'negative' AND valid")
    expected = N * 4 + negatives.column(0)[0].as_py()  # 4 contexts per sample, one row per negative
    assert len(rows(killed)) == len(set(rows(killed))) == expected
