"""The sandbox's evaluation phase: every checkpoint through ``vzero-train eval`` on the test split,
per-arm accuracy, answers and gate statistics, and the paired comparisons between arms."""

from __future__ import annotations

import contextlib
import io
import json
import time
from pathlib import Path
from typing import Any

from vzero_train.sandbox.arms import BASE, PLAIN
from vzero_train.sandbox.session import SandboxRun, arm_dir


def evaluate_checkpoint(
    out_dir: Path, model: Path, test_store: Path, limit: int | None, scoring: str = "option"
) -> Path:
    """``vzero-train eval`` of one checkpoint on the test split's store, which asks each question as
    training does (options in the order fixed by the sample id); kept when already done with the
    same ``scoring``. ``option``: the option the student gives the highest log-prob (what it knows);
    ``generate``: its greedy answer, parsed (what it says)."""
    from vzero_core.progress import progress_allowed
    from vzero_train.cli import main

    results = out_dir / "results.json"
    if results.is_file():
        done = json.loads(results.read_text(encoding="utf-8")).get("settings", {})
        if done.get("scoring", "generate") == scoring:
            return out_dir
    args = ["eval", "--model", str(model), "--data", str(test_store), "--format", "store", "--name", "test"]
    args += ["--out", str(out_dir), "--max-new-tokens", "6", "--batch-size", "16", "--no-plot"]
    args += ["--scoring", scoring]
    if not progress_allowed():
        args.append("--no-progress")
    if limit:
        args += ["--limit", str(limit)]
    with contextlib.redirect_stdout(io.StringIO()):  # its tables: the sandbox prints one line per arm
        code = main(args)
    if code:
        raise RuntimeError(f"vzero-train eval failed for {model} (exit {code})")
    return out_dir


def greedy_outcomes(rows: list[dict[str, Any]]) -> dict[tuple[int, str], bool]:
    """(row number, item) -> correct for greedy rows (seeds repeat the items, so rows are keyed apart)."""
    return {(k, row["item_id"]): bool(row["correct"]) for k, row in enumerate(rows)}


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
            greedy_rows: list[dict[str, Any]] = []
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
                        greedy = run.out / "eval_greedy" / label
                        greedy_rows += read_rows(
                            evaluate_checkpoint(greedy, ckpt / "model", test_store, None, "generate")
                        )
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
                "greedy": {**accuracy(greedy_outcomes(greedy_rows)), **answer_profile(greedy_rows)},
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
