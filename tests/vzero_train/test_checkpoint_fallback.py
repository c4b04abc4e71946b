"""A damaged newest checkpoint: resume names the file, warns, and continues from the previous one."""

import logging
import shutil

import pytest

from vzero_train.config import TrainConfig
from vzero_train.trainer import Trainer, train


@pytest.fixture(scope="module")
def two_checkpoints(tmp_path_factory, tiny_vlm, records):
    """A run with checkpoints step_1 and step_2 (EMA teacher, so teacher state is saved too)."""
    run = tmp_path_factory.mktemp("run")

    def config(output_dir, steps):
        return TrainConfig.model_validate(
            dict(
                student=tiny_vlm("qwen2_5_vl"),
                teacher={"kind": "ema", "decay": 0.5},
                output_dir=str(output_dir),
                steps=steps,
                prompts_per_step=2,
                num_mini_batches=1,
                micro_batch_size=2,
                rollout={"group_size": 2, "max_new_tokens": 4},
                data={"shuffle_buffer": 1},
                save_every=1,
                device="cpu",
                tensorboard=False,
            )
        )

    Trainer(config(run, 2), records=lambda: records).train()
    return run, config


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.e2e
@pytest.mark.parametrize(
    "damaged",
    [
        "model/model.safetensors",  # the student's weights
        "accelerate/model.safetensors",  # the weights resume loads
        "accelerate/optimizer.bin",
        "teacher_ema.pt",
        "trainer_state.json",
    ],
)
def test_resume_falls_back_past_a_damaged_checkpoint(two_checkpoints, records, tmp_path, caplog, damaged):
    run, config = two_checkpoints
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    target = copy / "checkpoints" / "step_2" / damaged
    assert target.is_file(), sorted(p.name for p in target.parent.iterdir())
    _truncate(target)
    with caplog.at_level(logging.WARNING, logger="vzero_train.checkpoint"):
        trainer = Trainer(config(copy, 3), records=lambda: records)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(str(target) in w and "falling back" in w for w in warnings), warnings
    assert trainer.step == 1 and trainer.last_checkpoint.name == "step_1"
    assert trainer.stream.position == 2


def test_a_finished_run_builds_nothing(two_checkpoints, monkeypatch):
    run, config = two_checkpoints

    def no_trainer(*args, **kwargs):
        raise AssertionError("a finished run must not build a trainer")

    monkeypatch.setattr("vzero_train.trainer.Trainer", no_trainer)
    result = train(config(run, 2))
    assert result.already_done and result.step == 2 and result.checkpoint.name == "step_2"
    assert result.history == []
