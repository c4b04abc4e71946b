"""``vzero-train sandbox``: world -> teacher SFT -> teacher check -> base student SFT -> arms -> eval -> report.

Every stage leaves its result on disk and is skipped when rerun (SFT and OPD runs resume from their
newest checkpoints, evaluations with a ``results.json`` are kept), so an interrupted sandbox picks up
where it stopped. Progress is printed per stage and arm, with the time each took.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vzero_train.sandbox.arms import BASE, arm, opd_records
from vzero_train.sandbox.config import SandboxConfig, Sizes, load_sandbox_config
from vzero_train.sandbox.world import build_world

TEACHER_VIEWS_FILE = "teacher_views.json"


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


def store_source(store: Path, strategies: list[str] | None, config_hash: str, limit: int | None = None):
    from vzero_data.store import open_store

    def records():
        return open_store(store).iter_training_records(
            strategies=strategies or [], config_hash=config_hash, limit=limit, require_all=True
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
    result = train_sft(config, progress=False)
    done = f"last loss {result.history[-1]['loss/sft']:.4f}" if result.history else "done earlier"
    log(f"  {role}: {result.step} SFT steps, {done}, {time.perf_counter() - t0:.0f}s")
    return final_model(out / "runs" / role)


def teacher_check(
    out: Path, teacher: Path, strategies: list[str], config_hash: str, limit: int
) -> dict[str, Any]:
    from vzero_core.vlm.models import load_vlm
    from vzero_train.sandbox.teacher_eval import NO_CROP, POSITIVE, teacher_view_scores

    path = out / TEACHER_VIEWS_FILE
    if path.is_file():
        return json.loads(path.read_text())
    vlm = load_vlm(teacher, device="cpu", dtype="float32")
    records = list(store_source(out / "stores" / "test", strategies, config_hash, limit)())
    scores = teacher_view_scores(vlm, records, [POSITIVE, *strategies, NO_CROP])
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
    overrides = {
        **(a.overrides or {}),
        "student": str(models["student"]),
        "teacher": {"kind": "external", "path": str(models["teacher"])},
        "output_dir": str(out / "runs" / "arms" / name / f"seed{seed}"),
        "steps": sizes.arm_steps,
        "save_every": sizes.arm_save_every,
        "seed": seed,
    }
    config = load_train_config(recipe, overrides)
    source = store_source(out / "stores" / "opd", list(a.strategies), config_hash)
    return train(config, records=opd_records(source, a, seed))


def evaluate_checkpoint(out_dir: Path, model: Path, test_dir: Path, limit: int | None) -> Path:
    """``vzero-train eval`` of one checkpoint on the test split (kept when already done)."""
    from vzero_train.cli import main

    results = out_dir / "results.json"
    if results.is_file():
        return out_dir
    args = ["eval", "--model", str(model), "--data", str(test_dir), "--format", "synthetic", "--name", "test"]
    args += [
        "--out",
        str(out_dir),
        "--max-new-tokens",
        "6",
        "--batch-size",
        "16",
        "--no-plot",
        "--no-progress",
    ]
    if limit:
        args += ["--limit", str(limit)]
    code = main(args)
    if code:
        raise RuntimeError(f"vzero-train eval failed for {model} (exit {code})")
    return out_dir


def read_outcomes(eval_dir: Path) -> dict[str, bool]:
    """Item id -> correct, from an eval folder's predictions."""
    files = sorted((eval_dir / "predictions").glob("*/test.jsonl"))
    if len(files) != 1:
        raise FileNotFoundError(f"{eval_dir}: expected one predictions/*/test.jsonl, found {len(files)}")
    out = {}
    with open(files[0], encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out[row["item_id"]] = bool(row["correct"])
    return out


def gate_summary(run_dir: Path) -> dict[str, float]:
    """Gate statistics averaged over an arm's logged steps (empty for plain OPD)."""
    from vzero_train.metrics import read_metrics

    rows = read_metrics(run_dir) if (run_dir / "metrics.jsonl").is_file() else []
    keys = sorted({k for r in rows for k in r if k.startswith("gate/")})
    return {k: sum(r[k] for r in rows if k in r) / sum(1 for r in rows if k in r) for k in keys}


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


@dataclass
class SandboxRun:
    """What the phases of one sandbox run share: where it writes, the recipe resolved with this run's
    sizes (what ``sft`` and ``train`` read), the sizes, and what the world phase found."""

    out: Path
    recipe: Path
    config: SandboxConfig
    sizes: Sizes
    log: Callable[[str], None]
    hashes: dict[str, str] = field(default_factory=dict)
    strategies: list[str] = field(default_factory=list)

    @property
    def opd_arms(self) -> list[str]:
        return [a for a in self.sizes.arms if a != BASE]


def prepare(
    out: Path, recipe: Path, quick: bool, seeds: int | None, arms: list[str] | None, log
) -> SandboxRun:
    """Read the recipe, apply ``--quick``/``--seeds``/``--arms``, and write the resolved recipe."""
    doc, config = load_recipe(recipe)
    sizes = config.quick if quick else config.full
    if seeds is not None:
        sizes = sizes.model_copy(update={"seeds": seeds})
    if arms:
        sizes = sizes.model_copy(update={"arms": arms})
    out.mkdir(parents=True, exist_ok=True)
    resolved = out / "recipe.yaml"
    resolved.write_text(yaml.safe_dump(doc, sort_keys=False))
    return SandboxRun(out, resolved, config, sizes, log)


def world_phase(run: SandboxRun) -> dict[str, Any]:
    """Synthesize and curate every split; measure the colour-counting shortcut on the test split."""
    from PIL import Image

    from vzero_data.synth import rarest_colour_accuracy, read_manifest

    sizes, out = run.sizes, run.out
    run.log(
        f"[1/6] world: {', '.join(f'{k} {v}' for k, v in sizes.split_n.items())} scenes into {out / 'world'}"
    )
    t0 = time.perf_counter()
    doc = yaml.safe_load(run.recipe.read_text(encoding="utf-8"))
    world = build_world(out, doc, run.config, sizes.split_n, run.log)
    run.hashes = {split: c["config_hash"] for split, c in world["curation"].items()}
    run.strategies = stored_strategies(out / "stores" / "opd", run.hashes["opd"])
    for name in sizes.arms:
        arm(name, run.strategies)  # unknown arms fail before any training
    test_manifest = out / "world" / "test" / "manifest.jsonl"
    triples = (
        (Image.open(test_manifest.parent / r["image"]).convert("RGB"), r["options"], r["answer"])
        for r in read_manifest(test_manifest)
    )
    correct, n = rarest_colour_accuracy(triples)
    chance = 1 / run.config.world.n_options
    world["shortcut"] = {"rule": "rarest option colour", "accuracy": correct / n, "n": n, "chance": chance}
    run.log(
        f"  splits disjoint by id and image; rarest-colour rule on test: {correct / n:.3f} "
        f"(chance {chance:.2f}); {time.perf_counter() - t0:.0f}s"
    )
    return world


def teacher_phase(run: SandboxRun) -> tuple[Path, dict[str, Any]]:
    """SFT the teacher on full image + positive crop, then score it with each view."""
    sizes = run.sizes
    run.log(f"[2/6] teacher: SFT on full image + positive crop, {sizes.teacher_steps} steps")
    teacher = run_sft(run.recipe, run.out, "teacher", sizes.teacher_steps, run.hashes["teacher"], run.log)
    run.log("[3/6] teacher check: accuracy with the positive crop, each negative view, and no crop")
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
    return run_sft(run.recipe, run.out, "student", steps, run.hashes["student"], run.log)


def arms_phase(run: SandboxRun, models: dict[str, Path]) -> None:
    """Every OPD arm for every seed, from the base student (each resumes from its checkpoints)."""
    sizes = run.sizes
    run.log(
        f"[5/6] arms: {', '.join(run.opd_arms) or 'none'} x {sizes.seeds} seed(s), {sizes.arm_steps} OPD steps each"
    )
    for seed in range(sizes.seeds):
        for name in run.opd_arms:
            t0 = time.perf_counter()
            result = run_arm(
                run.recipe, run.out, name, seed, sizes, models, run.strategies, run.hashes["opd"]
            )
            run.log(f"  {name} seed {seed}: step {result.step}, {time.perf_counter() - t0:.0f}s")


def arm_checkpoints(run: SandboxRun, name: str, seed: int, student: Path) -> list[tuple[int, Path]]:
    """``(step, checkpoint)`` of one arm and seed; the base arm is the student itself, at step 0."""
    from vzero_train.checkpoint import list_checkpoints

    if name == BASE:
        return [(0, student.parent)]
    return list_checkpoints(run.out / "runs" / "arms" / name / f"seed{seed}")


def evaluation_phase(
    run: SandboxRun, student: Path
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[tuple[int, str], bool]]]:
    """Every checkpoint of every arm on the test split; per arm its accuracy, accuracy by step and
    gate statistics, and the final checkpoints' outcomes per (seed, item) for the paired tests."""
    from vzero_train.sandbox.stats import accuracy

    run.log("[6/6] evaluation on the test split with vzero-train eval")
    test_dir = run.out / "world" / "test"
    per_arm: dict[str, dict[str, Any]] = {}
    outcomes: dict[str, dict[tuple[int, str], bool]] = {}
    for name in run.sizes.arms:
        t0 = time.perf_counter()
        by_step: dict[int, dict[tuple[int, str], bool]] = {}
        finals: list[str] = []
        gate: dict[str, list[float]] = {}
        for seed in range(run.sizes.seeds):
            ckpts = arm_checkpoints(run, name, seed, student)
            if name != BASE:
                for k, v in gate_summary(run.out / "runs" / "arms" / name / f"seed{seed}").items():
                    gate.setdefault(k, []).append(v)
            for step, ckpt in ckpts:
                label = "base" if name == BASE else f"{name}/seed{seed}/step_{step}"
                eval_dir = evaluate_checkpoint(run.out / "eval" / label, ckpt / "model", test_dir, None)
                for item, ok in read_outcomes(eval_dir).items():
                    by_step.setdefault(step, {})[(seed, item)] = ok
            finals.append(str(ckpts[-1][1] / "model"))
        final_step = max(by_step)
        outcomes[name] = by_step[final_step]
        # the base student is one model: its accuracy counts each test item once, while paired
        # differences pair every seed of an arm with the same base answers
        own = {k: v for k, v in outcomes[name].items() if name != BASE or k[0] == 0}
        per_arm[name] = {
            **accuracy(own),
            "seeds": 1 if name == BASE else run.sizes.seeds,
            "final_step": final_step,
            "checkpoints": sorted(set(finals)),
            "by_step": {str(s): accuracy(o)["accuracy"] for s, o in sorted(by_step.items())},
            "gate": {k: sum(v) / len(v) for k, v in gate.items()},
        }
        a = per_arm[name]
        run.log(
            f"  {name:<28} accuracy {a['accuracy']:.3f} [{a['ci_low']:.3f}, {a['ci_high']:.3f}] "
            f"n={a['n']}; {time.perf_counter() - t0:.0f}s"
        )
    return per_arm, outcomes


def paired_comparisons(outcomes: dict[str, dict[tuple[int, str], bool]]) -> list[dict[str, Any]]:
    """Every pair of arms, later minus earlier, on the items (and seeds) both answered."""
    from vzero_train.sandbox.stats import paired_difference

    names = list(outcomes)
    return [
        {"a": b, "b": a, **paired_difference(outcomes[b], outcomes[a])}
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    ]


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
    world = world_phase(run)
    teacher, views = teacher_phase(run)
    student = student_phase(run)
    arms_phase(run, {"teacher": teacher, "student": student})
    per_arm, outcomes = evaluation_phase(run, student)
    sizes = run.sizes
    report = {
        "command": command,
        "quick": quick,
        "seeds": sizes.seeds,
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
        "wall_time_s": time.perf_counter() - t_start,
        "machine": machine(),
    }
    paths = report_mod.write(report, out)
    log(f"report: {paths['markdown']} ({report['wall_time_s']:.0f}s in this invocation)")
    return report
