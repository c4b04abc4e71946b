"""Run by test_distributed.py under ``accelerate launch --cpu --num_processes 2``: train a few steps
and dump each process's final student weights and the prompts it rolled out."""

import json
import sys
from pathlib import Path

import torch

from vzero_train.config import TrainConfig
from vzero_train.synthetic import synthetic_records
from vzero_train.trainer import Trainer


def main(config_path: str, out_dir: str) -> None:
    config = TrainConfig.model_validate_json(Path(config_path).read_text())
    records = synthetic_records(8, size=224)
    trainer = Trainer(config, records=lambda: records)
    seen: list[str] = []
    next_batch = trainer.stream.next_batch

    def recording(n):
        items = next_batch(n)
        seen.extend(it.sample_id for it in items)
        return items

    trainer.stream.next_batch = recording
    result = trainer.train()
    rank = trainer.accelerator.process_index
    out = Path(out_dir)
    state = trainer.accelerator.unwrap_model(trainer.model).state_dict()
    torch.save({k: v.detach().cpu() for k, v in state.items()}, out / f"params_{rank}.pt")
    info = {"seen": seen, "world": trainer.accelerator.num_processes, "steps": result.step}
    (out / f"info_{rank}.json").write_text(json.dumps(info))


if __name__ == "__main__":
    main(*sys.argv[1:3])
