"""Time one V-Zero training step, split into its phases, and compare a gated step with plain OPD.

Tiny random models (built here, no hub) on synthetic records, CPU by default. Prints the mean time
per step of rollout, positive replay, negative replay, the student's old log-probs, and the update,
for the gated run and for the same run with the gate off (no negative replay), and their ratio.
Same seeds, so both runs sample the same first responses; steps alternate between the two runs.

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
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

PHASES = ("rollout", "replay_positive", "replay_negative", "old_logprobs", "update")


def make_trainer(args: argparse.Namespace, root: Path, gated: bool, student: str, teacher: str, records):
    from vzero_train.config import TrainConfig
    from vzero_train.trainer import Trainer

    config = TrainConfig(
        student=student,
        teacher={"kind": "external", "path": teacher},
        output_dir=str(root / ("gated" if gated else "plain")),
        steps=args.warmup + args.steps,
        prompts_per_step=args.prompts,
        num_mini_batches=2,
        micro_batch_size=args.micro_batch_size,
        replay_batch_size=args.micro_batch_size * 2,
        rollout={"group_size": args.group_size, "max_new_tokens": args.max_new_tokens},
        gate={"enabled": gated},
        optim={"lr": 1e-5},
        device=args.device,
        tensorboard=False,
    )
    return Trainer(config, records=lambda: records, resume=False)


def timed_step(trainer) -> dict:
    t0 = time.perf_counter()
    metrics = trainer.train_step()
    metrics["time/step"] = time.perf_counter() - t0
    return metrics


def summarize(history: list[dict]) -> dict:
    """Median per phase (robust to other jobs on a shared machine)."""
    out = {phase: statistics.median(m[f"time/{phase}"] for m in history) for phase in (*PHASES, "step")}
    out["tokens"] = statistics.mean(m["rollout/response_length"] for m in history)
    return out


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
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    import torch

    from vzero_data.tiny_models import save_tiny_model
    from vzero_train.synthetic import synthetic_records

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        student = save_tiny_model(
            args.family, root / "student", hidden_size=args.student_hidden, num_layers=args.layers
        )
        teacher = save_tiny_model(
            args.family, root / "teacher", hidden_size=args.teacher_hidden, num_layers=args.layers, seed=1
        )
        records = synthetic_records(max(8, args.prompts), size=448)
        trainers = {
            gated: make_trainer(args, root, gated, str(student), str(teacher), records)
            for gated in (True, False)
        }
        history: dict[bool, list[dict]] = {True: [], False: []}
        for step in range(args.warmup + args.steps):  # alternate, so load drift hits both alike
            for gated, trainer in trainers.items():
                metrics = timed_step(trainer)
                if step >= args.warmup:
                    history[gated].append(metrics)
        results = {gated: summarize(h) for gated, h in history.items()}

    print(
        f"V-Zero step on {args.device} ({torch.get_num_threads()} threads): {args.family}, student hidden "
        f"{args.student_hidden}, teacher hidden {args.teacher_hidden}, {args.layers} layers; "
        f"{args.prompts} prompts x G={args.group_size}, <= {args.max_new_tokens} new tokens; "
        f"median of {args.steps} steps after {args.warmup} warm-up, gated and plain steps alternating"
    )
    print(f"{'phase':<18}{'gated (s)':>12}{'plain OPD (s)':>16}{'gated share':>14}")
    gated, plain = results[True], results[False]
    for phase in (*PHASES, "step"):
        share = gated[phase] / gated["step"] if gated["step"] else 0.0
        print(f"{phase:<18}{gated[phase]:>12.3f}{plain[phase]:>16.3f}{share:>13.0%}")
    print(f"response length (tokens): gated {gated['tokens']:.1f}, plain {plain['tokens']:.1f}")
    print(f"gated / plain OPD step time: {gated['step'] / plain['step']:.2f}x")


if __name__ == "__main__":
    main()
