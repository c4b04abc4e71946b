"""The plan's arithmetic on round numbers, each expected value worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from vzero_train.memory_plan import PlanInputs, what_to_change
from vzero_train.memory_plan.estimate import (
    RunSizes,
    SequenceTokens,
    images_per_micro_batch,
    linear_state_bytes,
    plan_memory,
)
from vzero_train.memory_plan.image_sizes import assumed_sizes
from vzero_train.memory_plan.model_shapes import ModelShape, TextShape
from vzero_train.memory_plan.parallelism import Parallelism

STUDENT = ModelShape(
    "student", Path("."), "test", "qwen3_vl", params=1_000_000_000, block_params=900_000_000,
    largest_block_params=30_000_000,
    text=TextShape(layers=10, hidden=1000, intermediate=3000, heads=10, kv_heads=2, head_dim=100, vocab=10_000, full_attention_layers=10),
    vision=None,
)  # fmt: skip
TEACHER = ModelShape(
    "teacher", Path("."), "test", "qwen3_vl", params=4_000_000_000, block_params=3_600_000_000,
    largest_block_params=100_000_000,
    text=TextShape(layers=20, hidden=2000, intermediate=6000, heads=16, kv_heads=4, head_dim=128, vocab=10_000, full_attention_layers=20),
    vision=None,
)  # fmt: skip
RUN = RunSizes(
    prompts_per_process=4, group_size=8, max_new_tokens=500, generate_rows=32, micro_batch_size=2,
    replay_batch_size=4, gradient_checkpointing=True, logprob_chunk_size=256, compute_bytes=2,
    teacher_bytes=2, teacher_sharded=False,
)  # fmt: skip
TOKENS = SequenceTokens(student_prompt=1000, teacher_prefix=1000, teacher_suffix=100, student_image_patches=0)
ONE = Parallelism(1, False, False, 0, "test")


def line(plan, name: str) -> float:
    for lines in (plan.resident, *plan.phases.values()):
        for item in lines:
            if item.name.startswith(name):
                return item.bytes
    raise KeyError(name)


def plan(par: Parallelism = ONE, device_gb: float = 80, **changes):
    import dataclasses

    return plan_memory(STUDENT, TEACHER, dataclasses.replace(RUN, **changes), TOKENS, par, device_gb * 1e9)


@pytest.mark.parametrize(
    "par, weights, optimizer, grads",
    [
        (ONE, 4e9, 8e9, 4e9),
        (Parallelism(8, False, False, 0, "ddp"), 4e9, 8e9, 4e9),  # DDP: every process holds everything
        (Parallelism(8, True, True, 1, "full"), 0.5e9, 1e9, 0.5e9),  # FULL_SHARD: all divided by 8
        (Parallelism(8, False, True, 1, "grad-op"), 4e9, 1e9, 0.5e9),  # SHARD_GRAD_OP: weights whole
    ],
)
def test_fsdp_divides_what_the_config_shards(par, weights, optimizer, grads):
    p = plan(par)
    assert line(p, "student weights") == weights
    assert line(p, "optimizer state") == optimizer
    assert line(p, "gradients") == grads


@pytest.mark.parametrize(
    "processes, sharded, expected",
    [
        (8, False, 2 * 4e9),  # bf16, whole on every process
        (8, True, 2 * (3.6e9 / 8 + 0.4e9)),  # blocks divided, embeddings and head whole
        (1, True, 2 * 4e9),  # one process: nothing to divide
    ],
)
def test_teacher_placement(processes, sharded, expected):
    p = plan(Parallelism(processes, False, False, 0, "t"), teacher_sharded=sharded)
    assert line(p, "teacher weights") == pytest.approx(expected)


def test_kv_cache_replay_logits_and_gathered_student():
    p = plan(Parallelism(8, True, True, 1, "full"))
    # 32 rows x (1000 + 500) tokens x 10 layers x 2 kv heads x 100 dim x 2 (K, V) x 2 bytes
    assert line(p, "rollout KV cache") == 32 * 1500 * 10 * 2 * 100 * 2 * 2
    # the full fp32 student gathered for sampling, less this process's shard
    assert line(p, "student gathered for sampling") == pytest.approx(4e9 * 7 / 8)
    # 4 rows x 500 response positions x 10000 vocab x 2 bytes
    assert line(p, "replay logits") == 4 * 500 * 10_000 * 2
    # teacher: 4 rows x (1000 prefix + 100 crop + 500 response) x 20 layers x 4 x 128 x 2 x 2
    assert line(p, "teacher KV cache") == 4 * 1600 * 20 * 4 * 128 * 2 * 2


def test_gradient_checkpointing_keeps_only_layer_inputs():
    on, off = plan(gradient_checkpointing=True), plan(gradient_checkpointing=False)
    tokens = 2 * 1500  # micro-batch 2 x (1000 prompt + 500 response)
    per_layer = tokens * (2 * (3 * 1000 + 2 * 1000 + 2 * 200 + 3 * 3000) + 4 * 2 * 1000)
    assert line(off, "update activations") == 10 * per_layer
    assert line(on, "update activations") == 10 * tokens * 1000 * 4 + 2 * per_layer


def test_linear_attention_state_is_per_sequence():
    text = TextShape(
        layers=4, hidden=64, intermediate=128, heads=4, kv_heads=2, head_dim=16, vocab=100, full_attention_layers=1,
        linear_layers=3, linear_key_heads=2, linear_value_heads=4, linear_key_dim=8, linear_value_dim=8, linear_conv_kernel=4,
    )  # fmt: skip
    # per layer: fp32 4 x 8 x 8 recurrent state + (2*2*8 + 4*8) channels x 3 window x 2 bytes
    assert linear_state_bytes(text, 2) == 3 * (4 * 8 * 8 * 4 + 64 * 3 * 2)


def test_peak_is_resident_plus_the_largest_phase_and_warns_past_the_device():
    p = plan()
    phases = {name: p.phase_bytes(name) for name in p.phases}
    assert p.peak_bytes == p.resident_bytes + max(phases.values())
    assert p.peak_phase == max(phases, key=phases.get)
    assert p.fits
    assert not plan(device_gb=p.peak_bytes / 1e9 * 0.99).fits


def test_what_to_change_re_plans_each_change():
    p = plan()
    device_gb = (p.peak_bytes - 1e9) / 1e9  # just under the peak
    inputs = PlanInputs(
        STUDENT,
        TEACHER,
        RUN,
        TOKENS,
        Parallelism(8, False, False, 0, "ddp"),
        assumed_sizes((64, 64)),
        64,
        {},
        device_gb * 1e9,
    )
    changes = dict(what_to_change(inputs))
    assert changes, "something lowers the peak"
    for change, peak in changes.items():
        assert peak < p.peak_bytes, change
    assert "--set teacher.shard=true" in changes
    assert changes["--set teacher.shard=true"] == pytest.approx(inputs.plan(teacher_sharded=True).peak_bytes)
    assert any(peak <= device_gb * 1e9 for peak in changes.values()), "one of them fits"


@pytest.mark.parametrize(
    "micro_batch, group_size, images",
    [(4, 8, 1), (8, 8, 1), (16, 8, 2), (3, 8, 2), (1, 8, 1), (4, 3, 2), (5, 3, 3), (2, 1, 2)],
)
def test_distinct_images_in_a_micro_batch(micro_batch, group_size, images):
    """Rows 0..M-1, M..2M-1, ... of prompt-major groups of G: how many prompts a micro-batch spans."""
    spans = {
        len({row // group_size for row in range(start, start + micro_batch)})
        for start in range(0, 48 * group_size, micro_batch)
    }
    assert max(spans) == images_per_micro_batch(micro_batch, group_size) == images
