"""Run by test_teacher_sharding.py: the teacher's replays with ``teacher.shard`` over the processes.

Under ``accelerate launch`` with 2 processes, :func:`vzero_train.setup.load_teacher` shards the
teacher's blocks over both, and each process replays its own prompts (its half of the items, of
different image sizes); run plainly, one process replays all items with the whole teacher: the
reference. Each process writes its positive and negative replay log-probs (shared-prefix path and
per-row path) and how many parameter elements it holds to ``replay_<pair>_<world>_<rank>.pt``.
"""

import sys
from pathlib import Path

import torch
from PIL import Image

from vzero_core.vlm.models import load_vlm
from vzero_core.vlm.prompts import PromptTemplates
from vzero_core.vlm.replay import replay_logprobs
from vzero_train.config import TrainConfig
from vzero_train.data import PromptItem
from vzero_train.rollout import Rollout
from vzero_train.setup import load_teacher
from vzero_train.step import render_prompts, shared_replays, teacher_views
from vzero_train.teacher_sharding import block_lists

N_ITEMS, G, WIDTH = 4, 2, 6


def local_numel(model: torch.nn.Module) -> int:
    """Elements this process holds (a sharded parameter counts its local shard only)."""
    return sum((p.to_local() if hasattr(p, "to_local") else p).numel() for p in model.parameters())


def items() -> list[PromptItem]:
    return [
        PromptItem(
            i,
            f"s{i}",
            f"what colour is object {i}?",
            Image.new("RGB", (96 + 32 * i, 64 + 16 * i), (40 * i, 90, 160)),
            Image.new("RGB", (32 + 16 * i, 32), (200, 30 * i, 60)),
            Image.new("RGB", (48, 40 + 8 * i), (10, 200, 30 * i)),
            "test",
        )
        for i in range(N_ITEMS)
    ]


def rollout_for(first: int, stop: int) -> Rollout:
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(10, 300, (N_ITEMS * G, WIDTH), generator=gen)
    lengths = torch.tensor([2, 6, 5, 3, 6, 4, 1, 6])
    mask = torch.arange(WIDTH)[None, :] < lengths[:, None]
    rows = slice(first * G, stop * G)
    index = [i - first for i in range(first, stop) for _ in range(G)]
    return Rollout(index, index, ids[rows], mask[rows])


def replay(student_path: str, teacher_path: str, out: Path, acc) -> None:
    world, rank = acc.num_processes, acc.process_index
    per = N_ITEMS // world
    mine = items()[rank * per : (rank + 1) * per]
    config = TrainConfig(
        student=student_path,
        teacher={"kind": "external", "path": teacher_path, "shard": True},
        replay_batch_size=3,
        device="cpu",
        dtype="float32",
    )
    student = load_vlm(student_path, device="cpu", dtype="float32", trainable=True)
    teacher = load_teacher(config, student, out.parent, acc)
    prompts = render_prompts(student.tokenizer, PromptTemplates().teacher, mine, None)
    rollout = rollout_for(rank * per, (rank + 1) * per)
    with torch.no_grad():
        shared = shared_replays(teacher, mine, prompts, rollout, config)
        rows = [mine[i] for i in rollout.prompt_index]
        row_prompts = [prompts[i] for i in rollout.prompt_index]
        per_row = {
            view: replay_logprobs(
                teacher.model,
                teacher.processor,
                row_prompts,
                teacher_views(rows, view),
                rollout.response_ids,
                nested_images=False,
                micro_batch_size=3,
            )  # fmt: skip
            for view in ("positive", "negative")
        }
    torch.save(
        {
            "shared": shared,
            "per_row": per_row,
            "mask": rollout.response_mask,
            "local_numel": local_numel(teacher.model),
            "total_numel": sum(p.numel() for p in teacher.model.parameters()),
            "block_numel": sum(
                p.numel() for b in block_lists(teacher.model).values() for p in b.parameters()
            ),
        },
        out,
    )


def main(out_dir: str, *pairs: str) -> None:
    """``pairs``: student and teacher folders, one pair per family; one launch replays them all."""
    from accelerate import Accelerator

    acc = Accelerator(cpu=True)
    for n in range(0, len(pairs), 2):
        out = Path(out_dir) / f"replay_{n // 2}_{acc.num_processes}_{acc.process_index}.pt"
        replay(pairs[n], pairs[n + 1], out, acc)


if __name__ == "__main__":
    main(*sys.argv[1:])
