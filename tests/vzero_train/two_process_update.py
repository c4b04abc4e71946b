"""Run by test_distributed.py: one PPO update over fixed responses with unequal token counts.

Under ``accelerate launch`` with 2 processes each process takes its half of the rows; run plainly
(one process) it takes all of them: the single-process reference. The optimizer is SGD with lr 1 and
no clipping, so each parameter moves by exactly minus its (process-averaged) gradient, which is
written to ``delta_<aggregation>_<world>_<rank>.pt``.
"""

import sys
from pathlib import Path

import torch

from vzero_core.vlm.models import load_vlm
from vzero_core.vlm.prompts import PromptTemplates
from vzero_core.vlm.replay import replay_logprobs
from vzero_train.config import TrainConfig
from vzero_train.rollout import Rollout
from vzero_train.step import StepResult, render_prompts
from vzero_train.synthetic import synthetic_records
from vzero_train.update import ppo_update

# rows: (prompt, response length); prompt 0's two samples go to process 0, prompt 1's to process 1
LENGTHS = [2, 3, 7, 6]
WIDTH = 8


def rows_batch(student, first: int, stop: int) -> StepResult:
    records = synthetic_records(2, size=128)
    prompts = render_prompts(student.tokenizer, PromptTemplates().student, records, None)
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(
        10, 400, (len(LENGTHS), WIDTH), generator=gen
    )  # plain text tokens of the tiny vocabulary
    mask = torch.arange(WIDTH)[None, :] < torch.tensor(LENGTHS)[:, None]
    advantages = torch.randn(len(LENGTHS), WIDTH, generator=gen) * mask
    prompt_of = [0, 0, 1, 1]
    rows = range(first, stop)
    row_prompts = [prompts[prompt_of[r]] for r in rows]
    row_images = [[records[prompt_of[r]].image] for r in rows]
    # one row per forward, as in the update: the same old log-probs however the rows are split
    old = replay_logprobs(
        student.model,
        student.processor,
        row_prompts,
        row_images,
        ids[first:stop],
        nested_images=False,
        micro_batch_size=1,
    )
    rollout = Rollout(
        [prompt_of[r] for r in rows], [prompt_of[r] for r in rows], ids[first:stop], mask[first:stop]
    )
    weights = torch.ones(stop - first)
    adv = advantages[first:stop]
    return StepResult(rollout, row_prompts, row_images, old, old, None, weights, adv)


def main(student_path: str, out_dir: str) -> None:
    from accelerate import Accelerator

    acc = Accelerator(cpu=True)
    world, rank = acc.num_processes, acc.process_index
    per_rank = len(LENGTHS) // world
    for aggregation in ("token-mean", "seq-mean-group-mean"):
        config = TrainConfig(
            student=student_path,
            teacher={"kind": "frozen_self"},
            micro_batch_size=1,
            loss={"aggregation": aggregation},
            optim={"grad_clip": 1e9},
            device="cpu",
        )
        student = load_vlm(student_path, device="cpu", dtype="float32", trainable=True)
        before = {k: v.detach().clone() for k, v in student.model.named_parameters()}
        batch = rows_batch(student, rank * per_rank, (rank + 1) * per_rank)
        optimizer = torch.optim.SGD(student.model.parameters(), lr=1.0)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda n: 1.0)
        model, optimizer, scheduler = acc.prepare(student.model, optimizer, scheduler)
        model.train()
        ppo_update(
            batch,
            model=model,
            optimizer=optimizer,
            scheduler=scheduler,
            accelerator=acc,
            processor=student.processor,
            nested_images=False,
            config=config,
            rows_per_mini_batch=per_rank,
        )
        after = dict(acc.unwrap_model(model).named_parameters())
        delta = {k: (after[k].detach() - v) for k, v in before.items()}
        torch.save(delta, Path(out_dir) / f"delta_{aggregation}_{world}_{rank}.pt")
        acc.free_memory()


if __name__ == "__main__":
    main(*sys.argv[1:3])
