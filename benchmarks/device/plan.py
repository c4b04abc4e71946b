"""The ``plan`` part: ``benchmarks/plan_check.py`` for the paper-scale recipe at its real sizes.

On the GPU, plan_check builds the recipe's student (float32 master weights) and teacher (bf16) from
the shipped architecture configs with random weights, runs the memory-relevant pieces of a step
(bf16 autocast, gradient checkpointing as the recipe sets it) and measures each component's peak
next to ``vzero-train plan``'s prediction for the same sizes. In the CPU smoke run the same code runs
on tiny layers of the same architecture (plan_check's ``--device cpu``: no memory figures).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from benchmarks.device.random_models import RECIPE, model_folder, recipe_models

GB = 1e9


def smoke_recipe(ctx: Any) -> str:
    """A copy of the recipe whose student and teacher are tiny folders of the same architecture."""
    from vzero_core.recipes import resolve_recipe

    student, teacher = recipe_models()
    doc = yaml.safe_load(resolve_recipe(RECIPE).read_text())
    doc["train"]["student"] = str(model_folder(student, ctx.work / "plan-student", shrink=64))
    doc["train"]["teacher"]["path"] = str(model_folder(teacher, ctx.work / "plan-teacher", shrink=128))
    path = ctx.work / "plan-recipe.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def run(ctx: Any, part: Any) -> None:
    from benchmarks import plan_check

    out = ctx.work / "plan_check"
    recipe = smoke_recipe(ctx) if ctx.device == "cpu" else RECIPE
    argv = ["--recipe", recipe, "--out", str(out), *ctx.sizes.plan_args]
    part.data["argv"] = argv
    part.save()
    try:
        code = plan_check.main([*argv, "--device", ctx.device])
    finally:  # what plan_check measured before it stopped
        result_file = out / "plan_check.json"
        result = json.loads(result_file.read_text()) if result_file.is_file() else {}
        part.data.update(result)
        settings = result.get("settings", {})
        if settings:
            part.note(
                f"{settings.get('rows')} rollout rows, {settings.get('N')} new tokens each, replay batch "
                f"{settings.get('R')}, micro-batch {settings.get('M')}, image {settings.get('image')}, crop "
                f"{settings.get('crop')}, gradient checkpointing {settings.get('gradient_checkpointing')}"
            )
        rows = part.table(
            "peak memory per component: the plan against the measurement",
            ["component", "plan GB", "measured GB", "measured / plan"],
        )
        for name, c in result.get("components", {}).items():
            rows.append([name, c["predicted_bytes"] / GB, c["measured_bytes"] / GB, c["ratio"]])
        for name, error in result.get("errors", {}).items():
            part.note(f"{name} failed: {error}")
        part.save()
    if code != 0:
        raise RuntimeError(f"plan_check failed: {', '.join(result.get('errors', {})) or f'exit {code}'}")
