"""``vzero-train sandbox``: world -> teacher SFT -> teacher check -> base student SFT -> arms -> eval -> report.

Every stage leaves its result on disk and is skipped when rerun (SFT and OPD runs resume from their
newest checkpoints, evaluations with a ``results.json`` are kept), so an interrupted sandbox picks up
where it stopped. Each stage says what it does when it starts, long stages print progress (a line
every 10 s when not on a terminal), and the report ends with the time each stage took.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from vzero_core.stage_times import StageTimes
from vzero_train.sandbox.arms import BASE, PLAIN, arm, opd_records
from vzero_train.sandbox.config import SandboxConfig, Sizes, load_sandbox_config
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


def arm_dir(out: Path, name: str, seed: int) -> Path:
    return out / "runs" / "arms" / name / f"seed{seed}"


def evaluate_checkpoint(out_dir: Path, model: Path, test_store: Path, limit: int | None) -> Path:
    """``vzero-train eval`` of one checkpoint on the test split's store, which asks each question as
    training does (options in the order fixed by the sample id); kept when already done."""
    from vzero_core.progress import progress_allowed
    from vzero_train.cli import main

    results = out_dir / "results.json"
    if results.is_file():
        return out_dir
    args = ["eval", "--model", str(model), "--data", str(test_store), "--format", "store", "--name", "test"]
    args += ["--out", str(out_dir), "--max-new-tokens", "6", "--batch-size", "16", "--no-plot"]
    if not progress_allowed():
        args.append("--no-progress")
    if limit:
        args += ["--limit", str(limit)]
    code = main(args)
    if code:
        raise RuntimeError(f"vzero-train eval failed for {model} (exit {code})")
    return out_dir


def read_outcomes(eval_dir: Path) -> dict[str, bool]:
    """Item id -> correct, from an eval folder's predictions."""
    from vzero_train.sandbox.answers import read_rows

    return {row["item_id"]: bool(row["correct"]) for row in read_rows(eval_dir)}


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
    sizes (what ``sft`` and ``train`` read), the sizes, what the world phase found, and the time
    each stage took."""

    out: Path
    recipe: Path
    config: SandboxConfig
    sizes: Sizes
    log: Callable[[str], None]
    hashes: dict[str, str] = field(default_factory=dict)
    strategies: list[str] = field(default_factory=list)
    times: StageTimes = field(default_factory=StageTimes)

    @property
    def opd_arms(self) -> list[str]:
        return [a for a in self.sizes.arms if a != BASE]

    def stage(self, name: str, *, show: bool = False) -> contextlib.AbstractContextManager:
        """Time a stage; ``show``: a periodic progress line for a stage with none of its own."""
        return self.times.stage(name, show=show)


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


def arm_checkpoints(run: SandboxRun, name: str, seed: int, student: Path) -> list[tuple[int, Path]]:
    """``(step, checkpoint)`` of one arm and seed, from the base student at step 0."""
    from vzero_train.checkpoint import list_checkpoints

    base = [(0, student.parent)]
    return base if name == BASE else base + list_checkpoints(arm_dir(run.out, name, seed))


def evaluation_phase(
    run: SandboxRun, student: Path
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[tuple[int, str], bool]]]:
    """Every checkpoint of every arm on the test split; per arm its accuracy, accuracy by step (with
    CIs), answer distribution and gate statistics, and the final checkpoints' outcomes per
    (seed, item) for the paired tests. The base student is one model: its accuracy counts each test
    item once, and its answers pair with every seed of an arm."""
    from vzero_train.sandbox.answers import answer_profile, read_rows
    from vzero_train.sandbox.stats import accuracy

    run.log("[6/6] evaluation on the test split's store with vzero-train eval")
    test_store = run.out / "stores" / "test"
    max_seeds = max((run.sizes.seeds_of(a) for a in run.opd_arms), default=1)
    per_arm: dict[str, dict[str, Any]] = {}
    outcomes: dict[str, dict[tuple[int, str], bool]] = {}
    with run.stage("evaluation"):
        for name in run.sizes.arms:
            t0 = time.perf_counter()
            seeds = 1 if name == BASE else run.sizes.seeds_of(name)
            by_step: dict[int, dict[tuple[int, str], bool]] = {}
            finals: list[str] = []
            final_rows: list[dict[str, Any]] = []
            gate: dict[str, list[float]] = {}
            for seed in range(seeds):
                ckpts = arm_checkpoints(run, name, seed, student)
                if name != BASE:
                    for k, v in gate_summary(arm_dir(run.out, name, seed)).items():
                        gate.setdefault(k, []).append(v)
                for step, ckpt in ckpts:
                    label = "base" if step == 0 else f"{name}/seed{seed}/step_{step}"
                    eval_dir = evaluate_checkpoint(run.out / "eval" / label, ckpt / "model", test_store, None)
                    for item, ok in read_outcomes(eval_dir).items():
                        by_step.setdefault(step, {})[(seed, item)] = ok
                    if (step, ckpt) == ckpts[-1]:
                        final_rows += read_rows(eval_dir)
                finals.append(str(ckpts[-1][1] / "model"))
            final_step = max(by_step)
            own = by_step[final_step]
            outcomes[name] = (
                {(s, item): ok for s in range(max_seeds) for (_, item), ok in own.items()}
                if name == BASE
                else own
            )
            per_arm[name] = {
                **accuracy(own),
                "seeds": seeds,
                "final_step": final_step,
                "checkpoints": sorted(set(finals)),
                "by_step": {str(s): accuracy(o) for s, o in sorted(by_step.items())},
                "gate": {k: sum(v) / len(v) for k, v in gate.items()},
                "answers": answer_profile(final_rows),
            }
            a = per_arm[name]
            flag = "  COLLAPSED: one answer for most items" if a["answers"]["collapsed"] else ""
            run.log(
                f"  {name:<28} accuracy {a['accuracy']:.3f} [{a['ci_low']:.3f}, {a['ci_high']:.3f}] "
                f"n={a['n']}; {time.perf_counter() - t0:.0f}s{flag}"
            )
    return per_arm, outcomes


def paired_comparisons(outcomes: dict[str, dict[tuple[int, str], bool]]) -> list[dict[str, Any]]:
    """Every OPD arm against the base student, and every other arm against plain OPD."""
    from vzero_train.sandbox.stats import paired_difference

    pairs = [(name, BASE) for name in outcomes if name != BASE and BASE in outcomes]
    pairs += [(name, PLAIN) for name in outcomes if name not in (BASE, PLAIN) and PLAIN in outcomes]
    return [{"a": a, "b": b, **paired_difference(outcomes[a], outcomes[b])} for a, b in pairs]


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
