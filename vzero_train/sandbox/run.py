"""``vzero-train sandbox``: world -> teacher SFT -> teacher check -> base student SFT -> arms -> eval -> report.

Every stage leaves its result on disk and is skipped when rerun (SFT and OPD runs resume from their
newest checkpoints, evaluations with a ``results.json`` are kept), so an interrupted sandbox picks up
where it stopped. Each stage says what it does when it starts, long stages print progress (a line
every 10 s when not on a terminal), and the report ends with the time each stage took.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from vzero_train.sandbox.arms import BASE, arm, opd_records
from vzero_train.sandbox.config import SandboxConfig, Sizes, load_sandbox_config
from vzero_train.sandbox.evaluation import evaluation_phase, paired_comparisons
from vzero_train.sandbox.session import SandboxRun, arm_dir
from vzero_train.sandbox.world import build_world

TEACHER_VIEWS_FILE = "teacher_views.json"
# The localisation-free rule each world is measured against (vzero_data.synth.shortcut).
SHORTCUT_RULES = {"shared_colour": "rarest", "big_small": "commonest"}


def load_recipe(path: Path) -> tuple[dict[str, Any], SandboxConfig]:
    """The whole recipe (its curation, ``sft:`` and ``train:`` sections) and its validated ``sandbox:``."""
    config = load_sandbox_config(path)
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")), config


def stored_strategies(store: Path, config_hash: str) -> list[str]:
    from vzero_data.store import open_store

    table = open_store(store).query(
        "SELECT DISTINCT strategy FROM views WHERE valid AND kind = 'negative' AND config_hash = ? ORDER BY 1",
        [config_hash],
    )
    return table.column(0).to_pylist()


def store_source(
    store: Path,
    strategies: list[str] | None,
    config_hash: str,
    limit: int | None = None,
    *,
    require_all: bool = True,
):
    from vzero_data.store import open_store

    def records():
        return open_store(store).iter_training_records(
            strategies=strategies or [], config_hash=config_hash, limit=limit, require_all=require_all
        )

    return records


def final_model(run_dir: Path) -> Path:
    from vzero_train.checkpoint import latest_checkpoint

    ckpt = latest_checkpoint(run_dir)
    if ckpt is None:
        raise FileNotFoundError(f"{run_dir}: no checkpoint")
    return ckpt / "model"


def run_sft(
    recipe: Path, out: Path, role: str, steps: int, config_hash: str, log: Callable[[str], None]
) -> Path:
    from vzero_train.sft import train_sft
    from vzero_train.sft_config import load_sft_config

    inputs = "full_and_positive" if role == "teacher" else "full"
    config = load_sft_config(
        recipe,
        {
            "store": str(out / "stores" / role),
            "output_dir": str(out / "runs" / role),
            "inputs": inputs,
            "steps": steps,
            "data.config_hash": config_hash,
        },
    )
    t0 = time.perf_counter()
    result = train_sft(config, progress=True)
    done = f"last loss {result.history[-1]['loss/sft']:.4f}" if result.history else "done earlier"
    log(f"  {role}: {result.step} SFT steps, {done}, {time.perf_counter() - t0:.0f}s")
    return final_model(out / "runs" / role)


def teacher_check(
    out: Path, teacher: Path, strategies: list[str], config_hash: str, limit: int
) -> dict[str, Any]:
    """The teacher's option accuracy on the test split with the positive crop, each stored negative
    view and no crop (kept in ``teacher_views.json``). A sample lacking a view is left out of that
    view's count only."""
    from vzero_core.vlm.models import load_vlm
    from vzero_train.sandbox.teacher_eval import NO_CROP, POSITIVE, teacher_view_scores

    path = out / TEACHER_VIEWS_FILE
    if path.is_file():
        return json.loads(path.read_text())
    vlm = load_vlm(teacher, device="cpu", dtype="float32")
    records = store_source(out / "stores" / "test", strategies, config_hash, limit, require_all=False)
    scores = teacher_view_scores(vlm, records(), [POSITIVE, *strategies, NO_CROP], total=limit)
    path.write_text(json.dumps(scores, indent=2) + "\n")
    return scores


def run_arm(
    recipe: Path,
    out: Path,
    name: str,
    seed: int,
    sizes: Sizes,
    models: dict[str, Path],
    strategies: list[str],
    config_hash: str,
):
    from vzero_train.config import load_train_config
    from vzero_train.trainer import train

    a = arm(name, strategies)
    if a.sft:
        return run_ceiling_sft(recipe, out, seed, sizes, models["student"], config_hash)
    overrides = {
        "teacher": {"kind": "external", "path": str(models["teacher"])},
        **(a.overrides or {}),
        "student": str(models["student"]),
        "output_dir": str(arm_dir(out, name, seed)),
        "steps": sizes.arm_steps,
        "save_every": sizes.arm_save_every,
        "seed": seed,
    }
    config = load_train_config(recipe, overrides)
    source = store_source(out / "stores" / "opd", list(a.strategies), config_hash)
    return train(config, records=opd_records(source, a, seed))


def run_ceiling_sft(recipe: Path, out: Path, seed: int, sizes: Sizes, student: Path, config_hash: str):
    """The ``sft`` arm: labelled SFT of the base student on the OPD split, with the OPD arms' batch
    (prompts per step), steps, learning rate and schedule: what the same scenes teach with answers."""
    from vzero_train.config import load_train_config
    from vzero_train.sft import train_sft
    from vzero_train.sft_config import load_sft_config

    opd = load_train_config(recipe, {"student": str(student), "teacher": {"kind": "frozen_self"}})
    config = load_sft_config(
        recipe,
        {
            "model": str(student),
            "store": str(out / "stores" / "opd"),
            "output_dir": str(arm_dir(out, "sft", seed)),
            "inputs": "full",
            "steps": sizes.arm_steps,
            "batch_size": opd.prompts_per_step,
            "optim": opd.optim.model_dump(),
            "save_every": sizes.arm_save_every,
            "keep_last": None,
            "seed": seed,
            "data.config_hash": config_hash,
        },
    )
    return train_sft(config, progress=True)


def machine() -> dict[str, Any]:
    import os
    import platform

    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    cores = os.cpu_count()
    return {
        "description": f"{platform.machine()} {cores} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} torch threads, load average at the end {load[0]:.1f}",
        "cores": cores,
        "load_average_end": list(load),
    }


def prepare(
    out: Path, recipe: Path, quick: bool, seeds: int | None, arms: list[str] | None, log
) -> SandboxRun:
    """Read the recipe, apply ``--quick``/``--seeds``/``--arms``, and write the resolved recipe."""
    doc, config = load_recipe(recipe)
    sizes = config.quick if quick else config.full
    if seeds is not None:
        sizes = sizes.model_copy(update={"seeds": seeds, "main_seeds": None})
    if arms:
        sizes = sizes.model_copy(
            update={"arms": arms, "main_arms": [a for a in sizes.main_arms if a in arms]}
        )
    configured = [
        n["strategy"] for n in doc.get("negatives") or [] if isinstance(n, dict) and "strategy" in n
    ]
    for name in sizes.arms:
        arm(name, configured)  # an unknown arm fails before the world is built
    out.mkdir(parents=True, exist_ok=True)
    resolved = out / "recipe.yaml"
    resolved.write_text(yaml.safe_dump(doc, sort_keys=False))
    return SandboxRun(out, resolved, config, sizes, log)


def shortcut(run: SandboxRun) -> dict[str, Any]:
    """The world's localisation-free colour rule on the test split (no model)."""
    from PIL import Image

    from vzero_data.synth import rarest_colour_accuracy, read_manifest

    rule = SHORTCUT_RULES[run.config.world.name]
    manifest = run.out / "world" / "test" / "manifest.jsonl"
    triples = (
        (Image.open(manifest.parent / r["image"]).convert("RGB"), r["options"], r["answer"])
        for r in read_manifest(manifest)
    )
    correct, n = rarest_colour_accuracy(triples, rule)
    return {
        "rule": f"{rule} option colour by pixels",
        "accuracy": correct / n,
        "n": n,
        "chance": 1 / run.config.world.n_options,
    }


def world_phase(run: SandboxRun) -> dict[str, Any]:
    """Synthesize and curate every split; measure the world's colour-counting shortcut on the test split."""
    sizes, out = run.sizes, run.out
    run.log(
        f"[1/6] world ({run.config.world.name}): "
        f"{', '.join(f'{k} {v}' for k, v in sizes.split_n.items())} scenes into {out / 'world'}, curated into "
        f"{out / 'stores'}"
    )
    t0 = time.perf_counter()
    doc = yaml.safe_load(run.recipe.read_text(encoding="utf-8"))
    world = build_world(out, doc, run.config, sizes.split_n, run.log)
    run.hashes = {split: c["config_hash"] for split, c in world["curation"].items()}
    run.strategies = stored_strategies(out / "stores" / "opd", run.hashes["opd"])
    for name in sizes.arms:
        arm(name, run.strategies)  # unknown arms fail before any training
    world["shortcut"] = sc = shortcut(run)
    run.log(
        f"  splits disjoint by id and image; the {sc['rule']} rule on test: {sc['accuracy']:.3f} "
        f"(chance {sc['chance']:.2f}); {time.perf_counter() - t0:.0f}s"
    )
    return world


def teacher_phase(run: SandboxRun) -> tuple[Path, dict[str, Any]]:
    """SFT the teacher on full image + positive crop, then score it with each view."""
    sizes = run.sizes
    run.log(f"[2/6] teacher: SFT on full image + positive crop, {sizes.teacher_steps} steps")
    with run.stage("teacher SFT"):
        teacher = run_sft(run.recipe, run.out, "teacher", sizes.teacher_steps, run.hashes["teacher"], run.log)
    run.log("[3/6] teacher check: accuracy with the positive crop, each negative view, and no crop")
    with run.stage("teacher check"):
        views = teacher_check(run.out, teacher, run.strategies, run.hashes["test"], sizes.split_n["test"])
    for view, s in views.items():
        run.log(
            f"  {view:<24} accuracy {s['accuracy']:.3f}  answer log-prob {s['correct_logprob']:.3f}  (n={s['n']})"
        )
    return teacher, views


def student_phase(run: SandboxRun) -> Path:
    """SFT the base student on full images."""
    steps = run.sizes.student_steps
    run.log(f"[4/6] base student: SFT on full images, {steps} steps")
    with run.stage("student SFT"):
        return run_sft(run.recipe, run.out, "student", steps, run.hashes["student"], run.log)


def arms_phase(run: SandboxRun, models: dict[str, Path]) -> None:
    """Every OPD arm for each of its seeds, from the base student (each resumes from its checkpoints)."""
    sizes = run.sizes
    plan = ", ".join(f"{a} x{sizes.seeds_of(a)}" for a in run.opd_arms) or "none"
    run.log(f"[5/6] arms (seeds): {plan}; {sizes.arm_steps} OPD steps each")
    with run.stage("OPD arms"):
        for seed in range(max((sizes.seeds_of(a) for a in run.opd_arms), default=0)):
            for name in run.opd_arms:
                if seed >= sizes.seeds_of(name):
                    continue
                t0 = time.perf_counter()
                result = run_arm(
                    run.recipe, run.out, name, seed, sizes, models, run.strategies, run.hashes["opd"]
                )
                run.log(f"  {name} seed {seed}: step {result.step}, {time.perf_counter() - t0:.0f}s")


def run_sandbox(
    out: Path,
    recipe: Path,
    *,
    quick: bool = False,
    seeds: int | None = None,
    arms: list[str] | None = None,
    command: str = "",
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run (or resume) the sandbox into ``out``; returns the report (also written to ``out``).

    The phases, in order: world, teacher (SFT and view check), base student, OPD arms, evaluation,
    paired comparisons; each keeps its results on disk and is skipped when already done.
    """
    from vzero_train.sandbox import report as report_mod

    t_start = time.perf_counter()
    run = prepare(out, recipe, quick, seeds, arms, log)
    with run.stage("world", show=True):
        world = world_phase(run)
    teacher, views = teacher_phase(run)
    student = student_phase(run)
    arms_phase(run, {"teacher": teacher, "student": student})
    per_arm, outcomes = evaluation_phase(run, student)
    sizes = run.sizes
    report = {
        "command": command,
        "quick": quick,
        "seeds": {name: (1 if name == BASE else sizes.seeds_of(name)) for name in sizes.arms},
        "arms_run": sizes.arms,
        "steps": {"teacher": sizes.teacher_steps, "student": sizes.student_steps, "arm": sizes.arm_steps},
        "world": world,
        "teacher": {
            "checkpoint": str(teacher),
            "views": views,
            "margin_vs_positive": {
                v: views["positive"]["accuracy"] - s["accuracy"] for v, s in views.items() if v != "positive"
            },
        },
        "student": {"checkpoint": str(student)},
        "arms": per_arm,
        "paired": paired_comparisons(outcomes),
        "stages": run.times.seconds,
        "wall_time_s": time.perf_counter() - t_start,
        "machine": machine(),
    }
    paths = report_mod.write(report, out)
    log(run.times.format())
    log(f"report: {paths['markdown']} ({report['wall_time_s']:.0f}s in this invocation)")
    return report
