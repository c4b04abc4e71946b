"""The ``opd`` part: gated and plain on-policy distillation steps of the paper-scale recipe on one GPU.

The recipe's student (float32 master weights, bf16 autocast, gradient checkpointing) and teacher
(bf16) are built from the shipped configs with random weights (:mod:`random_models`) and trained by
vzero's own ``Trainer`` on synthetic records: one process's share of the recipe's step (its
``prompts_per_step`` over 8 processes, halved again if memory runs out), the recipe's group size,
and fewer new tokens than the recipe's 2048 (a random student never stops early, so every row runs
to the limit). After a warm-up step, gated and plain steps alternate. Each step's time by phase
(vzero's own timers), sampled tokens per second and peak memory are recorded, with an estimate of
the model FLOPs utilisation against the bf16 matrix-product rate measured by the ``sanity`` part.

The FLOPs estimate (:func:`step_flops`) counts 2 FLOPs per parameter per token in a forward and
twice that in a backward, over the tokens each phase runs through each tower on the shared-inputs
path (each prompt's image encoded once, the teacher's prefix once per prompt); the language model's
output layer is counted only where logits are computed, and gradient checkpointing's extra forward
and attention's sequence-length term are left out, so it is a lower bound of the work done.
"""

from __future__ import annotations

import gc
import statistics
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from benchmarks.device.random_models import RECIPE, model_folder, random_weights, recipe_models

PHASES = ("encode", "rollout", "replay", "old_logprobs", "update")


@dataclass(frozen=True)
class Params:
    """A model's parameters by where they work: the vision tower, the language model's layers, and
    the token embedding (also the output layer's size, tied or not)."""

    vision: int
    body: int
    embedding: int


@dataclass(frozen=True)
class Tokens:
    """One prompt's token counts: the student prompt (text and full image), the teacher's prefix
    (text and full image) and one view (crop) after it, vision patches of the full image and of a
    view, the group size, the mean response length, and how many times the update runs the
    student's vision tower on the prompt's image (once per micro-batch holding its rows)."""

    student_prompt: int
    teacher_prefix: int
    view: int
    image_patches: int
    view_patches: int
    group: int
    response: float
    update_image_passes: float


def model_params(model: Any) -> Params:
    total = sum(p.numel() for p in model.parameters())
    vision = sum(p.numel() for n, p in model.named_parameters() if ".visual." in f".{n}")
    embedding = model.get_input_embeddings().weight.numel()
    return Params(vision=vision, body=total - vision - embedding, embedding=embedding)


def step_flops(t: Tokens, student: Params, teacher: Params, *, gated: bool) -> dict[str, float]:
    """Estimated model FLOPs of each phase for one prompt (see the module docstring)."""
    G, R, views = t.group, t.response, 2 if gated else 1
    rows = G * (t.student_prompt + R)  # language-model tokens of one pass over the group

    def lm(p: Params, tokens: float, logits: float) -> float:
        return 2 * (p.body * tokens + p.embedding * logits)

    student_pass = lm(student, rows, G * R)
    teacher_vision = 2 * teacher.vision * (t.image_patches + views * t.view_patches)
    update_vision = 2 * student.vision * t.update_image_passes * t.image_patches
    return {
        "encode": 2 * student.vision * t.image_patches,  # the student's image, once per prompt
        "rollout": student_pass,
        "replay": lm(teacher, t.teacher_prefix + views * G * (t.view + R), views * G * R) + teacher_vision,
        "old_logprobs": student_pass,
        "update": 3 * (student_pass + update_vision),  # forward and backward (two forwards)
    }


def update_image_passes(prompts: int, group: int, micro_batch: int) -> float:
    """Vision-tower passes per prompt in the update: rows are prompt-major, and a trainable tower
    runs once per distinct image of each micro-batch."""
    rows = prompts * group
    passes = sum(
        len({r // group for r in range(start, min(start + micro_batch, rows))})
        for start in range(0, rows, micro_batch)
    )
    return passes / prompts


def prompt_tokens(trainer: Any, record: Any, prompts: int) -> Tokens:
    """Token counts of ``record`` as the trainer's processors encode its prompts."""
    from vzero_core.vlm.prompts import build_messages, encode_prompts, render_prompt

    processor, templates = trainer.student.processor, trainer.templates
    image_id = trainer.student.model.config.image_token_id

    def encode(template: str, images: list[Any]) -> tuple[int, int, int]:
        prompt = render_prompt(
            processor.tokenizer, build_messages(template, record.question, templates.system)
        )
        enc = encode_prompts(processor, [prompt], [images], nested_images=False)
        patches = int(enc["image_grid_thw"].prod(dim=1).sum())
        return enc["input_ids"].shape[1], int((enc["input_ids"] == image_id).sum()), patches

    student_len, image_tokens, image_patches = encode(templates.student, [record.image])
    teacher_len, teacher_image_tokens, teacher_patches = encode(
        templates.teacher, [record.image, record.positive]
    )
    view = teacher_image_tokens - image_tokens
    return Tokens(
        student_prompt=student_len,
        teacher_prefix=teacher_len - view,
        view=view,
        image_patches=image_patches,
        view_patches=teacher_patches - image_patches,
        group=trainer.config.rollout.group_size,
        response=0.0,
        update_image_passes=update_image_passes(
            prompts, trainer.config.rollout.group_size, trainer.config.micro_batch_size
        ),
    )


def build_trainer(ctx: Any, prompts: int) -> Any:
    from vzero_train.config import load_train_config
    from vzero_train.synthetic import synthetic_records
    from vzero_train.trainer import Trainer

    s = ctx.sizes
    student, teacher = recipe_models()
    overrides = {
        "student": str(model_folder(student, ctx.work / "opd-student", shrink=s.shrink_student)),
        "teacher.path": str(model_folder(teacher, ctx.work / "opd-teacher", shrink=s.shrink_teacher)),
        "output_dir": str(ctx.work / "opd-run"),
        "prompts_per_step": prompts,
        "rollout.max_new_tokens": s.opd_new_tokens,
        "data.negative": "window",  # the synthetic records' equal-size window away from the target
        "device": ctx.device,
        "tensorboard": False,
        **s.opd_overrides,
    }
    config = load_train_config(RECIPE, overrides)
    records = synthetic_records(max(8, prompts), size=s.opd_image)
    with random_weights(ctx.device):
        return Trainer(config, records=lambda: records, resume=False), records[0]


def timed_step(trainer: Any, gated: bool, device: str) -> dict[str, Any]:
    import torch

    config = trainer.config
    trainer.config = config.model_copy(update={"gate": config.gate.model_copy(update={"enabled": gated})})
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    metrics = trainer.train_step()
    if device == "cuda":
        torch.cuda.synchronize()
    metrics["time/step"] = time.perf_counter() - t0
    metrics["peak_gb"] = torch.cuda.max_memory_allocated() / 1e9 if device == "cuda" else None
    return metrics


def first_step(ctx: Any, part: Any) -> tuple[Any, Any, int, dict[str, Any]]:
    """The trainer and its warm-up step (gated) at the recipe's per-process prompts, or half as many
    when that runs out of GPU memory: (trainer, a record, prompts per step, the step's metrics)."""
    import torch

    for prompts in (ctx.sizes.opd_prompts, ctx.sizes.opd_prompts // 2):
        try:
            trainer, record = build_trainer(ctx, prompts)
            return trainer, record, prompts, timed_step(trainer, True, ctx.device)
        except torch.OutOfMemoryError as exc:
            part.note(f"{prompts} prompts per step ran out of GPU memory ({str(exc).splitlines()[0]})")
        trainer = None  # free the models (and the traceback's hold on them) before the next try
        gc.collect()
        torch.cuda.empty_cache()
    raise RuntimeError("out of GPU memory at every prompt count tried")


def run(ctx: Any, part: Any) -> None:
    from vzero_train.config import load_train_config

    s = ctx.sizes
    trainer, record, prompts, warm = first_step(ctx, part)
    config, recipe = trainer.config, load_train_config(RECIPE)
    part.data.update(
        prompts=prompts,
        group_size=config.rollout.group_size,
        max_new_tokens=s.opd_new_tokens,
        warmup_step_s=warm["time/step"],
    )
    part.note(
        f"{prompts} prompts x G={config.rollout.group_size} = {prompts * config.rollout.group_size} rows "
        f"per step (the recipe: {recipe.prompts_per_step} prompts x G={recipe.rollout.group_size} over the "
        f"8 processes its header launches), up to {s.opd_new_tokens} new tokens (the recipe: "
        f"{recipe.rollout.max_new_tokens}), micro-batch {config.micro_batch_size}, replay batch "
        f"{config.replay_batch_size}, {config.num_mini_batches} mini-batches, {s.opd_image} px synthetic "
        f"images; warm-up step {warm['time/step']:.1f} s"
    )
    tokens = prompt_tokens(trainer, record, prompts)
    student, teacher = model_params(trainer.student.model), model_params(trainer.teacher.model)
    part.data.update(tokens=asdict(tokens), student_params=asdict(student), teacher_params=asdict(teacher))
    part.save()

    history: dict[str, list[dict[str, Any]]] = {"gated": [], "plain": []}
    schedule = [arm for i in range(s.opd_steps) for arm in (("plain", "gated"), ("gated", "plain"))[i % 2]]
    for arm in schedule:  # alternating, so neither arm always runs after the other
        if ctx.budget.left() < 1.3 * warm["time/step"]:
            part.note(
                f"stopped after {sum(map(len, history.values()))} timed steps: the part's time ran short"
            )
            break
        history[arm].append(timed_step(trainer, arm == "gated", ctx.device))
        part.data["steps"] = history
        part.save()
    del trainer
    summarize(part, history, tokens, student, teacher, prompts, ctx.shared.get("matmul_tflops"))


def summarize(
    part: Any,
    history: dict[str, list[dict[str, Any]]],
    tokens: Tokens,
    student: Params,
    teacher: Params,
    prompts: int,
    peak_tflops: float | None,
) -> None:
    """Median step time by phase, tokens/s, peak memory, gated/plain and estimated utilisation."""
    if not all(history.values()):
        raise RuntimeError("no timed step of each arm finished")
    med = {
        arm: {k: statistics.median(m.get(f"time/{k}", 0.0) for m in steps) for k in (*PHASES, "step")}
        for arm, steps in history.items()
    }
    rows = part.table(
        "median seconds per phase (vzero's step timers; step = wall time with the GPU synchronised)",
        ["phase", "gated", "plain", "gated / plain", "gated TFLOP/s", "gated MFU"],
    )
    response = statistics.mean(m["rollout/response_length"] for m in history["gated"])
    flops = {
        k: v * prompts
        for k, v in step_flops(replace(tokens, response=response), student, teacher, gated=True).items()
    }
    flops["step"] = sum(flops.values())
    for phase in (*PHASES, "step"):
        g, p = med["gated"][phase], med["plain"][phase]
        rate = flops[phase] / g / 1e12 if g > 0 else None
        rows.append(
            [
                phase,
                g,
                p,
                g / p if p > 0 else None,
                rate,
                rate / peak_tflops if rate is not None and peak_tflops else None,
            ]
        )
    sampled = {
        arm: statistics.median(
            m["rollout/response_length"] * prompts * tokens.group / m["time/step"] for m in steps
        )
        for arm, steps in history.items()
    }
    summary = part.table(
        "per step",
        ["arm", "steps timed", "mean response tokens", "sampled tokens/s", "rollout tokens/s", "peak GB"],
    )
    for arm, steps in history.items():
        mean_len = statistics.mean(m["rollout/response_length"] for m in steps)
        rollout_rate = (
            mean_len * prompts * tokens.group / med[arm]["rollout"] if med[arm]["rollout"] else None
        )
        peaks = [m["peak_gb"] for m in steps if m["peak_gb"] is not None]
        summary.append([arm, len(steps), mean_len, sampled[arm], rollout_rate, max(peaks) if peaks else None])
    part.data["median"] = med
    part.data["flops_per_step_gated"] = flops
    part.note(
        f"gated / plain step time {med['gated']['step'] / med['plain']['step']:.2f}x; MFU is the estimated "
        "model FLOPs per second (module docstring) over the bf16 matrix-product rate measured in this run"
        + ("" if peak_tflops else " (not measured in this run: MFU left out)")
    )
    part.save()
