"""Time one V-Zero training step by phase: gated vs plain OPD, and the shared-inputs step vs the
straightforward one.

Tiny random models (built here, no hub) on synthetic records, CPU by default. Four runs on the same
seeds, their steps interleaved so machine load hits all alike:

- gated and plain (gate off: no negative view), with ``step_inputs: shared``: each prompt's image
  preprocessed and encoded once per step, the teacher's common prefix run once per prompt;
- gated and plain with ``step_inputs: per_row``, the straightforward path kept as the reference:
  every row preprocessed and encoded in every pass, each teacher replay a full forward.

Prints the median time per phase and the step time built from them (the phases' medians plus the
median of what no phase timer covers), the gated/plain ratio of each path and the gated step's
speed-up over the straightforward path, each from those per-phase medians. The spread shows how
stable a figure is: the same ratio taken step by step (each gated step against the plain step run
next to it), as its median and interquartile range, min and max. Runs take turns in a rotating
order, so neither always goes first after another run has warmed or cooled the caches. Also
prints the ratio in process CPU time (all threads), which other jobs on a shared machine disturb
less than wall time. Then the same gated/plain ratio computed from token counts at paper
scale (about 1,369 full-image tokens, 81 crop tokens, G=8, 300-token responses): tokens each phase
pushes through the vision tower and the language model, a backward counted as two forwards.

  python benchmarks/bench_train_step.py
  python benchmarks/bench_train_step.py --family smolvlm --prompts 8 --group-size 8 --max-new-tokens 64
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PHASES = ("encode", "rollout", "replay", "old_logprobs", "update")
RUNS = (("shared", True), ("shared", False), ("per_row", True), ("per_row", False))


def make_trainer(
    args: argparse.Namespace, root: Path, run: tuple[str, bool], student: str, teacher: str, records
):
    from vzero_train.config import TrainConfig
    from vzero_train.trainer import Trainer

    inputs, gated = run
    config = TrainConfig(
        student=student,
        teacher={"kind": "external", "path": teacher},
        output_dir=str(root / run_name(run).replace(" ", "-")),
        steps=args.warmup + args.steps,
        prompts_per_step=args.prompts,
        num_mini_batches=2,
        micro_batch_size=args.micro_batch_size,
        replay_batch_size=args.micro_batch_size * 2,
        rollout={"group_size": args.group_size, "max_new_tokens": args.max_new_tokens},
        gate={"enabled": gated},
        optim={"lr": 1e-5},
        step_inputs=inputs,
        device=args.device,
        tensorboard=False,
    )
    return Trainer(config, records=lambda: records, resume=False)


def run_name(run: tuple[str, bool]) -> str:
    return f"{run[0]} {'gated' if run[1] else 'plain'}"


def timed_step(trainer) -> dict:
    t0, c0 = time.perf_counter(), time.process_time()
    metrics = trainer.train_step()
    metrics["time/step"] = time.perf_counter() - t0
    metrics["cpu/step"] = time.process_time() - c0
    return metrics


def summarize(history: list[dict]) -> dict:
    """Median per phase (robust to other jobs on a shared machine); ``step`` is built from them:
    the phases' medians plus the median of the rest of the step (what no phase timer covers)."""
    out = {phase: statistics.median(m.get(f"time/{phase}", 0.0) for m in history) for phase in PHASES}
    out["other"] = statistics.median(
        m["time/step"] - sum(m.get(f"time/{phase}", 0.0) for phase in PHASES) for m in history
    )
    out["step"] = sum(out[phase] for phase in (*PHASES, "other"))
    out["cpu"] = statistics.median(m["cpu/step"] for m in history)
    out["tokens"] = statistics.mean(m["rollout/response_length"] for m in history)
    return out


def spread(numerator: list[dict], denominator: list[dict]) -> str:
    """Median, interquartile range, min and max of the step-by-step ratio of two interleaved runs."""
    ratios = sorted(a["time/step"] / b["time/step"] for a, b in zip(numerator, denominator, strict=True))
    if len(ratios) < 2:
        return f"one step: {ratios[0]:.2f}x"
    q1, median, q3 = statistics.quantiles(ratios, n=4, method="inclusive")
    return (
        f"per step: median {median:.2f}x, IQR {q1:.2f}-{q3:.2f}x, min {ratios[0]:.2f}x, max {ratios[-1]:.2f}x"
    )


def rotated(items: list, step: int) -> list:
    """``items`` starting at position ``step`` (mod its length): every run goes first in turn."""
    k = step % len(items)
    return items[k:] + items[:k]


@dataclass(frozen=True)
class Scale:
    """Token counts of one prompt's share of a step."""

    image: int = 1369  # full-image tokens (after the vision tower's merge)
    crop: int = 81  # crop tokens (positive crop or negative view)
    text: int = 60  # system, question and chat markup around the images
    response: int = 300
    group: int = 8


def token_costs(s: Scale, *, gated: bool, shared: bool) -> dict[str, float]:
    """Tokens each phase pushes through the models for one prompt (vision tower and language model
    alike count one per token; a backward counts two; generation counts each new token once).

    The straightforward path encodes the full image in every row of every pass and replays the whole
    teacher prompt per row and view. The shared path encodes each image once (the update still runs
    a trainable vision tower on each row, with its backward), runs the teacher's prefix (text and
    full image) once per prompt, and each view's crop and the response per row."""
    G, I, C, Q, R = s.group, s.image, s.crop, s.text, s.response  # noqa: E741 (the cost formulas' symbols)
    views = 2 if gated else 1
    cost = {
        "rollout": G * (I + Q) + G * R,
        "old_logprobs": G * (I + Q + R),
        "update": 3 * G * (I + Q + R) + 3 * G * I,  # language model and vision tower, forward + backward
    }
    if shared:
        cost["encode"] = I + (I + views * C)  # student's image; teacher's full image and each view
        cost["replay"] = (I + Q) + views * G * (C + R)  # prefix once, then crop + response per row
    else:
        cost["rollout"] += G * I
        cost["old_logprobs"] += G * I
        cost["replay"] = views * G * ((I + C) + (I + C + Q + R))  # vision tower + full forward per row
    return cost


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--family", default="qwen2_5_vl")
    parser.add_argument("--student-hidden", type=int, default=128)
    parser.add_argument("--teacher-hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--prompts", type=int, default=4)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--micro-batch-size", type=int, default=4)
    parser.add_argument("--steps", type=int, default=10, help="timed steps per run (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per run first (default 2)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from vzero_core.tiny_models import save_tiny_vlm
    from vzero_train.synthetic import synthetic_records

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        student = save_tiny_vlm(
            args.family, root / "student", hidden_size=args.student_hidden, num_layers=args.layers
        )
        teacher = save_tiny_vlm(
            args.family, root / "teacher", hidden_size=args.teacher_hidden, num_layers=args.layers, seed=1
        )
        records = synthetic_records(max(8, args.prompts), size=448)
        trainers = {run: make_trainer(args, root, run, str(student), str(teacher), records) for run in RUNS}
        history: dict[tuple[str, bool], list[dict]] = {run: [] for run in RUNS}
        for step in range(args.warmup + args.steps):  # interleave, so load drift hits every run alike
            for run in rotated(list(RUNS), step):
                metrics = timed_step(trainers[run])
                if step >= args.warmup:
                    history[run].append(metrics)
        results = {run: summarize(h) for run, h in history.items()}

    print(
        f"V-Zero step on {args.device} ({torch.get_num_threads()} threads): {args.family}, student hidden "
        f"{args.student_hidden}, teacher hidden {args.teacher_hidden}, {args.layers} layers; "
        f"{args.prompts} prompts x G={args.group_size}, <= {args.max_new_tokens} new tokens; "
        f"median of {args.steps} steps after {args.warmup} warm-up, the four runs interleaved"
    )
    header = "".join(f"{run_name(run):>16}" for run in RUNS)
    print(f"{'phase (s)':<14}{header}")
    for phase in (*PHASES, "other", "step"):
        label = "step (sum)" if phase == "step" else phase
        print(f"{label:<14}" + "".join(f"{results[run][phase]:>16.3f}" for run in RUNS))
    print(f"{'step CPU (s)':<14}" + "".join(f"{results[run]['cpu']:>16.3f}" for run in RUNS))
    print("response length (tokens): " + ", ".join(f"{run_name(r)} {results[r]['tokens']:.1f}" for r in RUNS))
    pairs = (
        ("gated / plain step time, shared inputs:       ", ("shared", True), ("shared", False)),
        ("gated / plain step time, straightforward path:", ("per_row", True), ("per_row", False)),
        ("gated step, straightforward / shared:         ", ("per_row", True), ("shared", True)),
    )
    for label, a, b in pairs:
        ratio, cpu = results[a]["step"] / results[b]["step"], results[a]["cpu"] / results[b]["cpu"]
        print(f"{label} {ratio:.2f}x (CPU time {cpu:.2f}x; {spread(history[a], history[b])})")

    scale = Scale(group=8)
    print(
        f"paper scale from token counts ({scale.image} image tokens, {scale.crop} crop tokens, {scale.text} text "
        f"tokens, G={scale.group}, {scale.response}-token responses; one token = one unit in either tower, "
        "backward = 2 forwards):"
    )
    for shared in (True, False):
        gated, plain = (sum(token_costs(scale, gated=g, shared=shared).values()) for g in (True, False))
        name = "shared inputs" if shared else "straightforward path"
        print(
            f"  gated / plain, {name + ':':<22}{gated / plain:.2f}x  ({gated:,.0f} vs {plain:,.0f} tokens per prompt)"
        )
    fast = sum(token_costs(scale, gated=True, shared=True).values())
    slow = sum(token_costs(scale, gated=True, shared=False).values())
    print(f"  gated step, straightforward / shared: {slow / fast:.2f}x")


if __name__ == "__main__":
    main()
