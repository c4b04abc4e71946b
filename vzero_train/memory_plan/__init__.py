"""``vzero-train plan``: per-process GPU memory of a training recipe, before anything is launched.

:func:`build_plan` gathers the inputs (the models' shapes from their configs, the store's image
sizes through each model's image processor, the recipe's batch sizes, the parallelism of its
accelerate config) and :func:`vzero_train.memory_plan.estimate.plan_memory` does the arithmetic;
:func:`what_to_change` tries the recipe changes that lower the peak and reports each one's result.
The formulas are explained in docs/memory-plan.md.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from vzero_train.memory_plan.estimate import GB, MemoryPlan, RunSizes, SequenceTokens, plan_memory
from vzero_train.memory_plan.image_sizes import ImageSizes, Sizes
from vzero_train.memory_plan.model_shapes import ModelShape
from vzero_train.memory_plan.parallelism import Parallelism
from vzero_train.memory_plan.visual_tokens import VisualTokens

# Chat-template and instruction text around the question (role headers, image delimiters, the
# teacher's crop sentence): a generous allowance, counted once per prompt.
TEMPLATE_TOKENS = 64
# A question's characters per token, on the low side for English BPE vocabularies (so tokens are over-counted).
CHARS_PER_TOKEN = 3
DEFAULT_TEXT_TOKENS = 256


@dataclass
class PlanInputs:
    """Everything :func:`plan_memory` is computed from, kept so changes can be re-planned."""

    student: ModelShape
    teacher: ModelShape
    run: RunSizes
    tokens: SequenceTokens
    parallelism: Parallelism
    images: ImageSizes
    text_tokens: int
    visual: dict[str, dict[str, float]]
    device_bytes: float

    def plan(self, **changes: Any) -> MemoryPlan:
        """The plan, with ``changes`` to the :class:`RunSizes` fields."""
        return self.plan_with(self.parallelism, **changes)

    def plan_with(self, parallelism: Parallelism, **changes: Any) -> MemoryPlan:
        run = dataclasses.replace(self.run, **changes) if changes else self.run
        return plan_memory(self.student, self.teacher, run, self.tokens, parallelism, self.device_bytes)


def token_stats(sizes: Sizes, tokens: VisualTokens) -> dict[str, float]:
    """Largest and mean visual tokens over ``sizes`` (weighted by how many images have each size)."""
    counts = [(tokens.tokens(w, h), n) for w, h, n in sizes]
    total = sum(n for _, n in counts)
    return {"max": max(t for t, _ in counts), "mean": sum(t * n for t, n in counts) / total, "images": total}


def largest(sizes: Sizes, tokens: VisualTokens) -> tuple[int, int]:
    w, h, _ = max(sizes, key=lambda s: tokens.tokens(s[0], s[1]))
    return w, h


def sequence_tokens(
    student: ModelShape, teacher: ModelShape, images: ImageSizes, text_tokens: int
) -> tuple[SequenceTokens, dict[str, dict[str, float]]]:
    """The longest rows' token counts, each model's images through its own processor."""
    s_vis, t_vis = VisualTokens(student), VisualTokens(teacher)
    views = images.positive + images.negative
    visual = {
        "student full image": token_stats(images.full, s_vis),
        "teacher full image": token_stats(images.full, t_vis),
        "teacher positive view": token_stats(images.positive, t_vis),
        "teacher negative view": token_stats(images.negative, t_vis),
    }
    crop = max(t_vis.tokens(w, h) for w, h, _ in views)
    seq = SequenceTokens(
        student_prompt=text_tokens + visual["student full image"]["max"],
        teacher_prefix=text_tokens + visual["teacher full image"]["max"],
        teacher_suffix=crop + TEMPLATE_TOKENS // 4,
        student_image_patches=s_vis.patches(*largest(images.full, s_vis)),
    )
    return seq, visual


def store_text_tokens(store_path: str) -> int:
    """A conservative token count of the longest question with its options, plus the template."""
    from vzero_data.store import open_store

    row = (
        open_store(store_path)
        .query(
            "SELECT max(length(coalesce(question, '')) + coalesce(length(array_to_string(options, ' (X) ')), 0)) AS n FROM samples"
        )
        .to_pylist()[0]
    )
    return TEMPLATE_TOKENS + math.ceil((row["n"] or 0) / CHARS_PER_TOKEN)


def run_sizes(config: Any, parallelism: Parallelism) -> RunSizes:
    """The recipe's batch sizes per process, split as the trainer splits them."""
    per = config.prompts_per_rank(parallelism.processes)
    rows = per * config.rollout.group_size
    mixed = config.mixed_precision in ("auto", "bf16", "fp16")
    # an EMA teacher is float32; a frozen one is loaded in `dtype` (auto: bf16 on a GPU)
    teacher_bytes = 4 if config.teacher.kind == "ema" else {"float32": 4}.get(config.dtype, 2)
    return RunSizes(
        prompts_per_process=per,
        group_size=config.rollout.group_size,
        max_new_tokens=config.rollout.max_new_tokens,
        generate_rows=min(config.rollout.batch_size or rows, rows),
        micro_batch_size=config.micro_batch_size,
        replay_batch_size=config.replay_batch_size,
        gradient_checkpointing=config.gradient_checkpointing,
        logprob_chunk_size=config.logprob_chunk_size,
        compute_bytes=2 if mixed else 4,
        teacher_bytes=teacher_bytes,
        teacher_sharded=config.teacher.shard,
    )


def build_plan(
    config: Any,
    parallelism: Parallelism,
    images: ImageSizes,
    *,
    text_tokens: int | None = None,
    device_gb: float = 80.0,
) -> PlanInputs:
    """Load both models' shapes and put the run together (``config`` is a :class:`TrainConfig`)."""
    from vzero_train.memory_plan.model_shapes import load_model_shape

    student = load_model_shape(config.student)
    # frozen_self / ema teachers are copies of the student
    teacher = load_model_shape(config.teacher.path) if config.teacher.kind == "external" else student
    if text_tokens is None:
        text_tokens = DEFAULT_TEXT_TOKENS if images.assumed else store_text_tokens(config.store)
    run = run_sizes(config, parallelism)
    tokens, visual = sequence_tokens(student, teacher, images, text_tokens)
    return PlanInputs(student, teacher, run, tokens, parallelism, images, text_tokens, visual, device_gb * GB)


def _halvings(start: int, accept: Any) -> int | None:
    """The largest of start/2, start/4, ... (at least 1) for which ``accept`` holds, else None."""
    value = start // 2
    while value >= 1:
        if accept(value):
            return value
        value //= 2
    return None


def what_to_change(inputs: PlanInputs) -> list[tuple[str, float]]:
    """Recipe changes that lower the peak, each with the peak it gives: ``(change, peak bytes)``.

    Tried one at a time: FSDP over the student (the shipped 8-GPU accelerate config's sharding, same
    process count); shard the teacher; gradient checkpointing; fewer rows per generate call, per
    replay forward, per update micro-batch (each halved until it fits, or down to 1). Then the
    switches together, with each batch size halved only as far as the others still leave it
    needing."""
    base = inputs.plan()
    run, par = inputs.run, inputs.parallelism
    out: list[tuple[str, float]] = []
    switches: dict[str, Any] = {}
    words: list[str] = []
    fsdp = par
    if not par.fsdp_version and par.processes > 1:
        fsdp = Parallelism(par.processes, True, True, 1, "fsdp_8gpu.yaml")
        words.append("--accelerate-config fsdp_8gpu.yaml")
        out.append((words[-1] + " (FSDP over the student)", inputs.plan_with(fsdp).peak_bytes))
    if not run.teacher_sharded and par.processes > 1 and inputs.teacher is not inputs.student:
        switches["teacher_sharded"] = True
        words.append("--set teacher.shard=true")
        out.append((words[-1], inputs.plan(teacher_sharded=True).peak_bytes))
    if not run.gradient_checkpointing:
        switches["gradient_checkpointing"] = True
        words.append("--set gradient_checkpointing=true")
        out.append((words[-1], inputs.plan(gradient_checkpointing=True).peak_bytes))
    sizes = {
        "generate_rows": "rollout.batch_size",
        "replay_batch_size": "replay_batch_size",
        "micro_batch_size": "micro_batch_size",
    }
    for field, key in sizes.items():
        current = getattr(run, field)
        if current > 1:
            value = _halvings(current, lambda v, f=field: inputs.plan(**{f: v}).fits) or 1
            out.append((f"--set {key}={value}", inputs.plan(**{field: value}).peak_bytes))
    if len(words) > 1 or not inputs.plan_with(fsdp, **switches).fits:
        combined = dict(switches)
        for field, key in sizes.items():
            if inputs.plan_with(fsdp, **combined).fits:
                break
            value = _halvings(
                getattr(run, field), lambda v, f=field: inputs.plan_with(fsdp, **combined, **{f: v}).fits
            )
            combined[field] = value or 1
            words.append(f"--set {key}={combined[field]}")
        if len(words) > 1:
            out.append((" ".join(words), inputs.plan_with(fsdp, **combined).peak_bytes))
    return [(change, peak) for change, peak in out if peak < base.peak_bytes]
