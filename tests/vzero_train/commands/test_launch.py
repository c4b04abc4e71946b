"""`vzero-train launch` starts a real `accelerate launch` when the inputs are there, and an error a
training process raises after the start comes back as the launcher's one `error:` line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.store_builder import synthetic_store

ROOT = Path(__file__).resolve().parents[3]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1"}


def launch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vzero_train.cli", "launch", *args],
        cwd=cwd,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.e2e
def test_launch_starts_accelerate_and_reports_a_process_error_once(tmp_path, tiny_vlm):
    synthetic_store(tmp_path, 2)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        f"store: {tmp_path / 'store'}\n"
        "train:\n"
        f"  student: {tiny_vlm('qwen2_5_vl')}\n"
        f"  teacher: {{kind: external, path: {tiny_vlm('qwen2_5_vl', 'teacher')}}}\n"
        f"  output_dir: {tmp_path / 'run'}\n"
        "  data: {negative: corner}\n"
        "  prompts_per_step: 2\n"
        "  rollout: {group_size: 2, max_new_tokens: 4}\n"
        "  tensorboard: false\n"
    )
    done = launch(str(recipe), "--cpu", "--steps", "1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "launching: accelerate launch --quiet --num_processes 1 " in done.stderr
    assert "trained 1 steps" in done.stdout and "time per stage: load models " in done.stdout
    checkpoint = tmp_path / "run" / "checkpoints" / "step_1"
    assert (checkpoint / "trainer_state.json").is_file()

    # Damage the only checkpoint: the launcher's checks pass, the training process refuses to resume.
    (checkpoint / "trainer_state.json").write_text("{}")
    done = launch(str(recipe), "--cpu", "--steps", "2", cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and done.stderr.strip().splitlines()[-1] == errors[0]
    assert errors[0].startswith("vzero-train launch: error: every checkpoint is damaged")
