"""``tiny:<family>`` model specs: tiny random models built into the run folder (demos and tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vzero_train.config import TINY_PREFIX, TrainConfig


def materialize_model(spec: str, output_dir: Path, role: str, config: TrainConfig, accelerator: Any) -> str:
    """A model path for ``spec``; ``tiny:<family>`` builds a tiny random model under the run folder
    (once, on the main process; the others wait), sized by ``config.tiny``. Other specs pass through."""
    if not spec.startswith(TINY_PREFIX):
        return spec
    from vzero_core.tiny_models import save_tiny_vlm

    family = spec[len(TINY_PREFIX) :]
    path = output_dir / "models" / f"{role}-{family}"
    tiny = config.tiny
    hidden = tiny.student_hidden_size if role == "student" else tiny.teacher_hidden_size
    if accelerator.is_main_process and not (path / "config.json").is_file():
        save_tiny_vlm(
            family,
            path,
            hidden_size=hidden,
            num_layers=tiny.num_layers,
            image_size=tiny.image_size,
            seed=config.seed + (0 if role == "student" else 1),
        )
    accelerator.wait_for_everyone()
    return str(path)
