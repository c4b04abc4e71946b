import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vzero_data.synth import write_scenes
from vzero_train.config import TrainConfig

REPO = Path(__file__).resolve().parents[2]


def _launch(script: Path, args: list[str], processes: int, port: int) -> None:
    """Run ``script`` as ``processes`` processes: plainly for one, else through accelerate's torchrun
    launcher (``--multi_gpu``: without GPUs accelerate runs it as MULTI_CPU over gloo; ``--cpu`` would
    start a single process)."""
    cmd = [sys.executable, str(script), *args]
    if processes > 1:
        launch = ["-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(processes)]
        launch += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
        cmd = [sys.executable, *launch, "--main_process_port", str(port), *cmd[1:]]
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]


@pytest.mark.e2e
def test_two_cpu_processes_keep_replicas_identical(tmp_path, tiny_vlm):
    write_scenes(tmp_path / "synth", 2, size=128, progress=False)
    config = TrainConfig(
        student=tiny_vlm("qwen2_5_vl"),
        teacher={"kind": "ema", "decay": 0.0},
        output_dir=str(tmp_path / "run"),
        steps=2,
        prompts_per_step=4,  # 2 prompts per process, one per mini-batch
        num_mini_batches=2,
        micro_batch_size=1,
        rollout={"group_size": 2, "max_new_tokens": 5},
        optim={"lr": 1e-3, "warmup_steps": 8},
        data={"shuffle_buffer": 1},
        device="cpu",
        tensorboard=False,
        # the main process evaluates the unwrapped student at steps 0 and 2; the other one waits
        validation={"data": str(tmp_path / "synth"), "every": 0, "max_new_tokens": 3},
    )
    config_path = tmp_path / "config.json"
    config_path.write_text(config.model_dump_json())
    _launch(Path(__file__).with_name("two_process_train.py"), [str(config_path), str(tmp_path)], 2, 29517)

    infos = [json.loads((tmp_path / f"info_{r}.json").read_text()) for r in range(2)]
    assert all(i["world"] == 2 and i["steps"] == 2 for i in infos)
    assert not set(infos[0]["seen"]) & set(infos[1]["seen"]), "each process rolls out its own prompts"
    assert len(infos[0]["seen"]) == 4
    a, b = (torch.load(tmp_path / f"params_{r}.pt") for r in range(2))
    for name in a:
        assert torch.equal(a[name], b[name]), f"replicas diverged at {name}"
    from safetensors.torch import load_file

    start = load_file(str(Path(tiny_vlm("qwen2_5_vl")) / "model.safetensors"))
    assert not torch.equal(start["lm_head.weight"], a["lm_head.weight"]), "training moved the weights"
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 3, "only the main process logs"
    logged = [json.loads(line) for line in lines]
    assert [(r["step"], r.get("eval/synth/n")) for r in logged] == [(0, 2.0), (1, None), (2, 2.0)]
    # warm-up counts optimizer updates (2 per step), not updates times processes
    assert [r["lr"] for r in logged[1:]] == pytest.approx([1e-3 * 3 / 8, 1e-3 * 5 / 8])


@pytest.mark.e2e
def test_two_processes_with_unequal_token_counts_match_one_process(tmp_path, tiny_vlm):
    """Two gloo processes holding 5 and 13 response tokens take the same update as one process
    holding all 18: the token mean is over the whole mini-batch, not a mean of per-process means
    (and the per-sequence, per-group mean is the mean over all groups)."""
    script = Path(__file__).with_name("two_process_update.py")
    args = [tiny_vlm("qwen2_5_vl"), str(tmp_path)]
    _launch(script, args, 1, 0)
    _launch(script, args, 2, 29533)
    for aggregation in ("token-mean", "seq-mean-group-mean"):
        reference = torch.load(tmp_path / f"delta_{aggregation}_1_0.pt")
        ranks = [torch.load(tmp_path / f"delta_{aggregation}_2_{r}.pt") for r in range(2)]
        assert any(v.abs().max() > 0 for v in reference.values()), "the update moved the weights"
        for name, expected in reference.items():
            assert torch.equal(ranks[0][name], ranks[1][name]), f"replicas diverged at {name}"
            torch.testing.assert_close(
                ranks[0][name], expected, rtol=1e-4, atol=1e-7, msg=f"{aggregation}: {name}"
            )
