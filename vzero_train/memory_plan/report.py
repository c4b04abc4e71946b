"""The plan as text (what ``vzero-train plan`` prints) and as a JSON-ready dict (``--json``)."""

from __future__ import annotations

from typing import Any

from vzero_train.memory_plan import PlanInputs, what_to_change
from vzero_train.memory_plan.estimate import GB, MemoryPlan
from vzero_train.memory_plan.model_shapes import ModelShape

# Above this share of the device a plan that fits is called tight (context, fragmentation).
TIGHT = 0.9
PHASE_TITLES = {
    "rollout": "rollout (generate; freed before the replays)",
    "replay": "replay (the teacher scores both views)",
    "old_logprobs": "old log-probs (the student scores its samples, no gradient)",
    "update": "update (one micro-batch)",
}


def describe_model(role: str, m: ModelShape) -> str:
    t = m.text
    attn = (
        f"{t.full_attention_layers} full-attention + {t.linear_layers} linear-attention"
        if t.linear_layers
        else f"{t.layers}"
    )
    vision = f", vision {m.vision.depth} blocks x {m.vision.hidden}" if m.vision else ""
    return (
        f"{role:<8} {m.name} ({m.origin} {m.folder}): {m.params:,} params; {attn} layers, hidden {t.hidden}, "
        f"{t.kv_heads} kv heads x {t.head_dim}, vocab {t.vocab}{vision}"
    )


def render(inputs: PlanInputs, plan: MemoryPlan, recipe: str) -> str:
    """The human-readable plan: models, inputs, every component with its formula, the peak, and,
    when it does not fit, a warning and what to change."""
    run, seq = inputs.run, inputs.tokens
    lines = [
        f"memory plan for {recipe}, per process",
        describe_model("student", inputs.student),
        describe_model("teacher", inputs.teacher),
        f"parallel: {inputs.parallelism.describe()}",
        f"images:   {inputs.images.source}",
    ]
    if inputs.images.assumed:
        lines.append(
            "          NOTE: image sizes are ASSUMED (no store); pass --store or curate first for real sizes"
        )
    lines += [f"          {note}" for note in inputs.images.notes]
    for name, stats in inputs.visual.items():
        lines.append(f"          {name}: up to {stats['max']} visual tokens (mean {stats['mean']:.0f})")
    lines += [
        f"tokens:   student prompt {seq.student_prompt} (text {inputs.text_tokens} + image), teacher prefix "
        f"{seq.teacher_prefix} + crop {seq.teacher_suffix}, up to {run.max_new_tokens} new tokens",
        f"batches:  {run.prompts_per_process} prompts x G={run.group_size} = {run.prompts_per_process * run.group_size} "
        f"rows; generate {run.generate_rows} rows at a time; replay {run.replay_batch_size}; update micro-batch "
        f"{run.micro_batch_size}; gradient checkpointing {'on' if run.gradient_checkpointing else 'off'}",
        "",
        f"{'component':<58} {'GB':>8}  formula",
        "resident (whole run)",
    ]
    for line in plan.resident:
        lines.append(f"  {line.name:<56} {line.bytes / GB:>8.2f}  {line.formula}")
    for phase, items in plan.phases.items():
        marker = "  <- peak" if phase == plan.peak_phase else ""
        lines.append(f"{PHASE_TITLES[phase]}: {plan.phase_bytes(phase) / GB:.2f} GB{marker}")
        for line in items:
            lines.append(f"  {line.name:<56} {line.bytes / GB:>8.2f}  {line.formula}")
    lines += [
        "",
        f"peak: {plan.resident_bytes / GB:.2f} resident + {plan.phase_bytes(plan.peak_phase) / GB:.2f} "
        f"{plan.peak_phase} = {plan.peak_bytes / GB:.2f} GB of {plan.device_bytes / GB:.0f} GB "
        f"({'fits' if plan.fits else 'DOES NOT FIT'}; CUDA context and allocator fragmentation not included)",
    ]
    tight = plan.fits and plan.peak_bytes > TIGHT * plan.device_bytes
    if tight:
        lines.append(
            f"NOTE: less than {1 - TIGHT:.0%} of the device left ({(plan.device_bytes - plan.peak_bytes) / GB:.2f} GB) "
            "for the CUDA context and fragmentation; to make room:"
        )
        for change, peak in what_to_change(inputs):
            lines.append(f"  {change:<70} peak {peak / GB:.2f} GB")
    if not plan.fits:
        lines.append(
            f"WARNING: the {plan.peak_phase} phase needs {plan.peak_bytes / GB:.2f} GB per process, "
            f"over the {plan.device_bytes / GB:.0f} GB of the device"
        )
        changes = what_to_change(inputs)
        if changes:
            lines.append("what to change (each re-planned):")
            for change, peak in changes:
                verdict = "fits" if peak <= plan.device_bytes else "still over"
                lines.append(f"  {change:<70} peak {peak / GB:.2f} GB ({verdict})")
        else:
            lines.append("what to change: more processes (FSDP), a shorter max_new_tokens, or smaller images")
    return "\n".join(lines)


def as_dict(inputs: PlanInputs, plan: MemoryPlan) -> dict[str, Any]:
    def model(m: ModelShape) -> dict[str, Any]:
        return {
            "name": m.name,
            "config": str(m.folder),
            "origin": m.origin,
            "params": m.params,
            "block_params": m.block_params,
        }

    out: dict[str, Any] = {
        "student": model(inputs.student),
        "teacher": model(inputs.teacher),
        "parallelism": inputs.parallelism.describe(),
        "processes": inputs.parallelism.processes,
        "images": {
            "source": inputs.images.source,
            "assumed": inputs.images.assumed,
            "visual_tokens": inputs.visual,
        },
        "tokens": vars(inputs.tokens),
        "run": vars(inputs.run),
        "resident": {line.name: line.bytes for line in plan.resident},
        "phases": {name: {line.name: line.bytes for line in items} for name, items in plan.phases.items()},
        "peak_phase": plan.peak_phase,
        "peak_bytes": plan.peak_bytes,
        "device_bytes": plan.device_bytes,
        "fits": plan.fits,
    }
    if not plan.fits:
        out["what_to_change"] = [{"change": c, "peak_bytes": p} for c, p in what_to_change(inputs)]
    return out
