"""What the evidence gate does to right and to wrong answers, on the big-small world.

The trainer never reads an answer, so its logs cannot say whether the gate up-weights the student's
right answers. This probe can: it runs the real step (:func:`vzero_train.step.gated_step`, the
rollout, the shared-prefix teacher replays, the gate) from the base student and teacher that
``benchmarks/opd_variants.py`` trained, on fresh scenes whose answers it knows, and prints per
group size:

- the gate's mean weight on right and on wrong answers, and the share of groups whose samples all
  gave the same answer (the group standardisation then gives every sample weight 1);
- the share of the student-over-teacher excess that falls on wrong answers, with the gate's weights
  and without: per response, the sum over its tokens of ``max(0, log p_student - log p_teacher)``
  (the tokens the student over-rates against the teacher with the crop, what the loss pulls down),
  times ``w`` with the gate.

Usage (after ``opd_variants.py --work DIR`` has trained its base models):

    python benchmarks/gate_by_answer.py --work DIR [--prompts 64] [--group-sizes 2,4,8]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402


def probe(work: Path, group_size: int, prompts: int, seed: int) -> dict[str, float]:
    from opd_variants import BASE_TRAIN, deep_update, stream

    from vzero_core.progress import progress_disabled
    from vzero_train.checkpoint import latest_checkpoint
    from vzero_train.config import TrainConfig
    from vzero_train.data import to_prompt_item
    from vzero_train.step import gated_step
    from vzero_train.trainer import Trainer

    settings = deep_update(
        BASE_TRAIN,
        {"gate": {"enabled": True}, "loss": {"estimator": "full"}, "rollout": {"group_size": group_size}},
    )
    settings.update(
        student=str(latest_checkpoint(work / "student") / "model"),
        teacher={"kind": "external", "path": str(latest_checkpoint(work / "teacher") / "model")},
        output_dir=str(work / "probe"),
        prompts_per_step=16,
        seed=seed,
    )
    config = TrainConfig.model_validate(settings)
    records = []
    for record in stream(5000 + seed)():
        records.append(record)
        if len(records) == prompts:
            break
    with progress_disabled():
        trainer = Trainer(config, records=lambda: iter(records))
    tok = trainer.student.tokenizer
    right_w, wrong_w, same, groups = [], [], 0, 0
    excess_mass = {"gate": [0.0, 0.0], "plain": [0.0, 0.0]}  # [right, wrong]
    for start in range(0, prompts, 16):
        batch = records[start : start + 16]
        items = [
            to_prompt_item(r, start + i, negative="distractor", requested=None, seed=seed)
            for i, r in enumerate(batch)
        ]
        result = gated_step(
            items,
            student=trainer.student,
            teacher=trainer.teacher,
            rollout_backend=trainer.rollout_backend,
            templates=trainer.templates,
            config=config,
            seed=seed * 1000 + start,
        )
        rollout = result.rollout
        texts = tok.batch_decode(rollout.response_ids, skip_special_tokens=True)
        answers = [batch[i].eval_answer for i in rollout.prompt_index]
        correct = [t.strip().lower() == a.strip().lower() for t, a in zip(texts, answers, strict=True)]
        with torch.no_grad():  # what the student over-rates against the positive teacher, per token
            mask = rollout.response_mask.float()
            excess = (result.old_logprobs - result.l_plus).clamp(min=0) * mask
        for k, ok in enumerate(correct):
            w = float(result.weights[k])
            (right_w if ok else wrong_w).append(w)
            mass = float(excess[k].sum())
            excess_mass["gate"][0 if ok else 1] += w * mass
            excess_mass["plain"][0 if ok else 1] += mass
        for g in range(0, len(correct), group_size):
            groups += 1
            same += len(set(texts[g : g + group_size])) == 1
    mean = lambda xs: sum(xs) / len(xs) if xs else float("nan")  # noqa: E731
    return {
        "group_size": group_size,
        "responses": len(right_w) + len(wrong_w),
        "right_share": len(right_w) / max(1, len(right_w) + len(wrong_w)),
        "w_right": mean(right_w),
        "w_wrong": mean(wrong_w),
        "groups_all_same": same / max(1, groups),
        "wrong_share_of_excess_plain": excess_mass["plain"][1] / max(1e-9, sum(excess_mass["plain"])),
        "wrong_share_of_excess_gate": excess_mass["gate"][1] / max(1e-9, sum(excess_mass["gate"])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, required=True, help="opd_variants.py's --work folder")
    parser.add_argument("--prompts", type=int, default=64, help="fresh scenes per group size (default 64)")
    parser.add_argument("--group-sizes", default="2,4,8", help="comma-separated (default 2,4,8)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(
        f"{'G':>2} {'responses':>9} {'right %':>7} {'w right':>7} {'w wrong':>7} {'groups all same %':>17} "
        f"{'wrong share of excess: plain':>28} {'gate':>6}"
    )
    for g in (int(x) for x in args.group_sizes.split(",")):
        r = probe(args.work, g, args.prompts, args.seed)
        print(
            f"{g:>2} {r['responses']:>9} {100 * r['right_share']:>7.1f} {r['w_right']:>7.2f} "
            f"{r['w_wrong']:>7.2f} {100 * r['groups_all_same']:>17.1f} "
            f"{100 * r['wrong_share_of_excess_plain']:>28.1f} {100 * r['wrong_share_of_excess_gate']:>6.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
