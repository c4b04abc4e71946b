import json
import logging

import pytest
import torch
from safetensors.torch import load_file

from vzero_core.tiny_models import VLM_FAMILIES
from vzero_train import step as step_module
from vzero_train.metrics import read_metrics
from vzero_train.trainer import Trainer

GATE_KEYS = {
    "gate/score_mean",
    "gate/score_std",
    "gate/weight_mean",
    "gate/weight_min",
    "gate/weight_max",
    "gate/frac_at_w_min",
    "gate/delta_mean",
    "gate/frac_delta_pos",
}


def _params(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.named_parameters()}


@pytest.mark.parametrize("family", VLM_FAMILIES)
def test_one_training_step_per_family(tmp_path, train_config, records, family):
    trainer = Trainer(train_config(family), records=lambda: records)
    before = _params(trainer.student.model)
    result = trainer.train()
    after = _params(trainer.student.model)
    changed = [k for k in before if not torch.equal(before[k], after[k])]
    assert changed, "the update moved the student"
    assert "lm_head.weight" in changed or any("embed" in k for k in changed)

    (metrics,) = result.history
    assert set(metrics) >= GATE_KEYS
    assert metrics["skipped_updates"] == 0 and metrics["rollout/response_length"] > 0
    assert metrics["data_position"] == 2
    assert all(metrics[f"time/{t}"] > 0 for t in step_module.TIMERS)
    logged = read_metrics(tmp_path / "run")
    assert [r["step"] for r in logged] == [1] and set(logged[0]) >= GATE_KEYS

    ckpt = result.checkpoint
    assert ckpt.name == "step_1" and not (ckpt.parent / "step_1.tmp").exists()
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert state["step"] == 1 and state["data_position"] == 2
    assert (ckpt / "model" / "config.json").is_file()
    saved = load_file(str(ckpt / "model" / "model.safetensors"))
    assert torch.equal(saved["lm_head.weight"], after["lm_head.weight"])


def test_plain_opd_has_no_negative_replay(train_config, records):
    cfg = train_config(gate={"enabled": False}, loss={"aggregation": "seq-mean-group-mean"})
    (metrics,) = Trainer(cfg, records=lambda: records).train().history
    assert not GATE_KEYS & set(metrics)
    assert metrics["time/replay"] > 0


def test_resume_continues_exactly(tmp_path, train_config, records):
    def run(out, steps):
        cfg = train_config(output_dir=str(tmp_path / out), teacher={"kind": "ema", "decay": 0.5})
        t = Trainer(cfg, records=lambda: records)
        t.train(steps)
        return t

    straight = run("straight", 4)
    run("resumed", 2)
    resumed = run("resumed", 4)  # a fresh process picks up step_2
    for name, value in _params(straight.student.model).items():
        assert torch.equal(value, dict(resumed.student.model.named_parameters())[name]), name
    for name, value in straight.teacher.model.state_dict().items():
        assert torch.equal(value, resumed.teacher.model.state_dict()[name]), name
    assert straight.stream.position == resumed.stream.position == 8
    assert [r["step"] for r in read_metrics(tmp_path / "resumed")] == [1, 2, 3, 4]
    a, b = read_metrics(tmp_path / "straight"), read_metrics(tmp_path / "resumed")
    assert [r["opd/reverse_kl_k1"] for r in a] == [r["opd/reverse_kl_k1"] for r in b]


def test_non_finite_loss_skips_the_update(train_config, records, monkeypatch, caplog):
    real = step_module.opd_token_advantages
    monkeypatch.setattr(
        step_module, "opd_token_advantages", lambda *a, **k: real(*a, **k).fill_(float("nan"))
    )
    trainer = Trainer(train_config(), records=lambda: records)
    before = _params(trainer.student.model)
    with caplog.at_level(logging.WARNING, logger="vzero_train.update"):
        (metrics,) = trainer.train().history
    assert metrics["skipped_updates"] == 2
    assert "non-finite loss" in caplog.text
    after = _params(trainer.student.model)
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.fixture
def fresh_accelerate_state():
    """accelerate's process-wide state fixes the mixed precision of the first Accelerator: reset it."""
    from accelerate.state import AcceleratorState, GradientState

    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)
    GradientState._reset_state()


def test_bf16_update_keeps_no_float32_logits_for_backward(train_config, records, fresh_accelerate_state):
    """Under mixed precision, what autograd saves of the (B, T, V) logits stays in bf16: the float32
    log-softmax runs one chunk at a time (accelerate's cast of every output to float32 would keep a
    full float32 copy of the logits alive until backward)."""
    trainer = Trainer(train_config(mixed_precision="bf16"), records=lambda: records)
    vocab = trainer.student.model.get_output_embeddings().weight.shape[0]
    saved: list[tuple[tuple[int, ...], torch.dtype]] = []

    def pack(t):
        saved.append((tuple(t.shape), t.dtype))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        trainer.train_step()
    logits_like = [(shape, dtype) for shape, dtype in saved if len(shape) == 3 and shape[-1] == vocab]
    assert logits_like, "the update saved the logits for backward"
    assert all(dtype == torch.bfloat16 for _, dtype in logits_like), logits_like


@pytest.mark.parametrize("vision", ["trainable", "frozen"])
def test_shared_step_inputs_train_like_the_straightforward_path(tmp_path, train_config, records, vision):
    """Through the trainer: shared inputs (features reused, or recomputed once per image with gradient
    for a trainable tower) give the straightforward path's metrics and gradients, the vision tower's
    included when it trains."""
    runs = {}
    for inputs in ("shared", "per_row"):
        cfg = train_config(step_inputs=inputs, output_dir=str(tmp_path / inputs), num_mini_batches=1)
        trainer = Trainer(cfg, records=lambda: records, resume=False)
        model = trainer.accelerator.unwrap_model(trainer.model)
        if vision == "frozen":
            model.model.visual.requires_grad_(False)
        seen: dict[str, torch.Tensor] = {}
        trainer.optimizer.step = lambda *a, seen=seen, model=model, **k: seen.update(
            {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        )
        runs[inputs] = (trainer.train_step(), seen)
    (shared, grads), (straight, expected) = runs["shared"], runs["per_row"]
    assert shared["rollout/response_length"] == straight["rollout/response_length"]
    for key in (
        "opd/reverse_kl_k1",
        "opd/teacher_logprob",
        "opd/student_logprob",
        "loss/policy",
        "grad_norm",
    ):
        assert shared[key] == pytest.approx(straight[key], rel=1e-3, abs=1e-6), key
    assert grads.keys() == expected.keys()
    visual = [n for n in grads if ".visual." in f".{n}"]
    assert bool(visual) is (vision == "trainable")
    for name, g in expected.items():
        torch.testing.assert_close(grads[name], g, atol=1e-6, rtol=1e-3, msg=lambda m, n=name: f"{n}: {m}")


@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before")
def test_gate_weights_reach_the_gradient(train_config, records, monkeypatch):
    """Through the real step and update: with the gate's weights pinned, a response of weight 0 adds
    nothing to the gradient and doubling a weight doubles that response's gradient."""

    def gradients(weights: list[float]) -> dict[str, torch.Tensor]:
        monkeypatch.setattr(step_module, "evidence_weights", lambda *a, **k: torch.tensor(weights))
        cfg = train_config(prompts_per_step=1, num_mini_batches=1, optim={"lr": 1e-3, "grad_clip": 1e9})
        trainer = Trainer(cfg, records=lambda: records, resume=False)  # 1 prompt x G=2: two responses
        seen: dict[str, torch.Tensor] = {}
        trainer.optimizer.step = lambda *a, **k: seen.update(
            {n: p.grad.clone() for n, p in trainer.model.named_parameters() if p.grad is not None}
        )
        trainer.train_step()
        assert seen, "the update computed gradients"
        return seen

    none, one, two = gradients([0.0, 0.0]), gradients([0.0, 1.0]), gradients([0.0, 2.0])
    assert all(torch.count_nonzero(g) == 0 for g in none.values()), "weight 0 contributes no gradient"
    assert any(torch.count_nonzero(g) > 0 for g in one.values())
    for name, g in one.items():
        torch.testing.assert_close(two[name], 2 * g, msg=lambda m, n=name: f"{n}: {m}")


def test_gate_off_is_exactly_the_alpha_0_update(tmp_path, train_config, records):
    """Plain OPD (no gate) and the gate with alpha = 0 (every weight 1) take the same update."""

    def run(name, gate):
        trainer = Trainer(train_config(output_dir=str(tmp_path / name), gate=gate), records=lambda: records)
        (metrics,) = trainer.train().history
        return trainer, metrics

    off, off_metrics = run("off", {"enabled": False})
    zero, zero_metrics = run("alpha0", {"alpha": 0.0})
    assert zero_metrics["gate/weight_min"] == zero_metrics["gate/weight_max"] == 1.0
    for key in ("loss/policy", "grad_norm", "opd/reverse_kl_k1"):
        assert off_metrics[key] == zero_metrics[key], key
    after_zero = dict(zero.student.model.named_parameters())
    for name, value in off.student.model.named_parameters():
        assert torch.equal(value, after_zero[name]), name


@pytest.mark.parametrize("cadence", ["update", "step"])
def test_ema_teacher_cadence(train_config, records, cadence):
    """``ema_every: update`` moves the EMA teacher after each of the step's 2 optimizer updates;
    ``step`` moves it once, toward the student after the step's last update."""
    decay = 0.5
    cfg = train_config(teacher={"kind": "ema", "decay": decay, "ema_every": cadence})
    trainer = Trainer(cfg, records=lambda: records)
    teacher = {k: v.detach().clone().float() for k, v in trainer.teacher.model.named_parameters()}
    students: list[dict[str, torch.Tensor]] = []
    real_step = trainer.optimizer.step

    def stepping(*args, **kwargs):
        out = real_step(*args, **kwargs)
        students.append(_params(trainer.student.model))
        return out

    trainer.optimizer.step = stepping
    trainer.train_step()
    assert len(students) == cfg.num_mini_batches == 2
    for student in students if cadence == "update" else students[-1:]:
        for name, t in teacher.items():
            t.mul_(decay).add_(student[name].float(), alpha=1.0 - decay)
    for name, value in trainer.teacher.model.named_parameters():
        torch.testing.assert_close(value, teacher[name], rtol=0, atol=0, msg=lambda m, n=name: f"{n}: {m}")
