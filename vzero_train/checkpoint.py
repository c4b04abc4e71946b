"""Atomic, exactly-resumable training checkpoints.

``output_dir/checkpoints/step_N/`` holds:

- ``accelerate/``: ``Accelerator.save_state`` (model, optimizer, scheduler, and each process's RNG
  states: python, numpy, torch, cuda), which handles DDP and FSDP layouts;
- ``model/``: the student as ``save_pretrained`` plus its processor, loadable for evaluation;
- ``teacher_ema.pt``: the EMA teacher's float32 weights, when the run has one;
- ``trainer_state.json``: step, data position and run facts;
- ``manifest.json``: size and SHA-256 of every other file, written last
  (:mod:`vzero_train.checkpoint_manifest`).

Everything is written to ``step_N.tmp/`` and renamed to ``step_N/`` when complete, so a crash never
leaves a half-written checkpoint that looks finished. Resume takes the newest checkpoint whose files
match their manifest; a damaged newer one (a truncated weight, optimizer or state file) is named in
a warning and skipped.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any

from vzero_core.hf_loading import save_processor
from vzero_core.model_source import CHECKPOINT_MODEL_DIR, CHECKPOINT_STATE_FILE
from vzero_train.checkpoint_manifest import MANIFEST_FILE, verify_manifest, write_manifest

logger = logging.getLogger(__name__)

CHECKPOINTS_DIRNAME = "checkpoints"
STATE_FILE = CHECKPOINT_STATE_FILE
MODEL_DIR = CHECKPOINT_MODEL_DIR
TEACHER_FILE = "teacher_ema.pt"
_STEP_DIR = re.compile(r"^step_(\d+)$")


def checkpoints_root(output_dir: str | os.PathLike[str]) -> Path:
    return Path(output_dir) / CHECKPOINTS_DIRNAME


def list_checkpoints(output_dir: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """Complete checkpoints as ``(step, path)``, oldest first (``.tmp`` folders are ignored)."""
    root = checkpoints_root(output_dir)
    if not root.is_dir():
        return []
    found = []
    for child in root.iterdir():
        match = _STEP_DIR.match(child.name)
        if match and (child / STATE_FILE).is_file():
            found.append((int(match.group(1)), child))
    return sorted(found)


def latest_checkpoint(output_dir: str | os.PathLike[str]) -> Path | None:
    found = list_checkpoints(output_dir)
    return found[-1][1] if found else None


def save_checkpoint(
    accelerator: Any,
    output_dir: str | os.PathLike[str],
    step: int,
    *,
    model: Any,
    processor: Any,
    data_position: int,
    teacher_state: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
    keep_last: int | None = None,
) -> Path:
    """Write checkpoint ``step`` (collective: every process calls it) and prune old ones."""
    root = checkpoints_root(output_dir)
    final = root / f"step_{step}"
    tmp = root / f"step_{step}.tmp"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp / "accelerate"))
    state_dict = accelerator.get_state_dict(model)
    if accelerator.is_main_process:
        unwrapped = accelerator.unwrap_model(model)
        unwrapped.save_pretrained(tmp / MODEL_DIR, state_dict=state_dict)
        save_processor(processor, tmp / MODEL_DIR)
        if teacher_state is not None:
            import torch

            torch.save(teacher_state, tmp / TEACHER_FILE)
    accelerator.wait_for_everyone()  # every process's share of accelerate/ is on disk
    if accelerator.is_main_process:
        state = {"step": step, "data_position": data_position, **(extra or {})}
        (tmp / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")
        write_manifest(tmp)
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        if keep_last is not None:
            for _, old in list_checkpoints(output_dir)[:-keep_last]:
                shutil.rmtree(old, ignore_errors=True)
        logger.info("saved checkpoint %s", final)
    accelerator.wait_for_everyone()
    return final


class DamagedCheckpointsError(RuntimeError):
    """Checkpoints exist but none is intact: resuming would silently restart the run."""


def intact_checkpoint(output_dir: str | os.PathLike[str]) -> Path | None:
    """The newest checkpoint whose files match its manifest; each damaged newer one is named in a
    warning. A checkpoint without a manifest (written before checksums) is taken as it is.

    Raises :class:`DamagedCheckpointsError` when checkpoints exist and every one is damaged.
    """
    found = list_checkpoints(output_dir)
    damaged = []
    for _, path in reversed(found):
        problems = verify_manifest(path)
        if problems is None:
            logger.warning(
                "checkpoint %s has no %s (older vzero): resuming from it unchecked", path, MANIFEST_FILE
            )
            return path
        if not problems:
            return path
        damaged.append(f"{path}: {'; '.join(problems)}")
        logger.warning(
            "checkpoint %s is damaged (%s); falling back to the previous checkpoint",
            path,
            "; ".join(problems),
        )
    if damaged:
        raise DamagedCheckpointsError(
            "every checkpoint is damaged, resuming would restart the run: "
            + " | ".join(damaged)
            + "; move them aside, or pass --no-resume to start over"
        )
    return None


def resume_checkpoint(accelerator: Any, output_dir: str | os.PathLike[str]) -> Path | None:
    """:func:`intact_checkpoint`, decided by the main process and shared with all (collective)."""
    from accelerate.utils import broadcast_object_list

    choice: list[Any] = [None]
    if accelerator.is_main_process:
        try:
            path = intact_checkpoint(output_dir)
            choice = [str(path) if path is not None else None]
        except DamagedCheckpointsError as exc:
            choice = [exc]
    if accelerator.num_processes > 1:
        broadcast_object_list(choice)
    if isinstance(choice[0], Exception):
        raise choice[0]
    return Path(choice[0]) if choice[0] is not None else None


def finished_checkpoint(output_dir: str | os.PathLike[str], total_steps: int) -> tuple[int, Path] | None:
    """``(step, path)`` of an intact checkpoint at or past ``total_steps``, else None. Only a run
    whose newest checkpoint is that far gets its files checked here."""
    found = list_checkpoints(output_dir)
    if not found or found[-1][0] < total_steps:
        return None
    path = intact_checkpoint(output_dir)
    if path is None:
        return None
    step = int(json.loads((path / STATE_FILE).read_text())["step"])
    return (step, path) if step >= total_steps else None


def load_checkpoint(accelerator: Any, path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict | None]:
    """Restore model, optimizer, scheduler and RNG states (collective) and return the trainer state
    and the EMA teacher weights (or None)."""
    path = Path(path)
    state_file = path / STATE_FILE
    if not state_file.is_file():
        raise FileNotFoundError(f"{path}: not a complete checkpoint (no {STATE_FILE})")
    accelerator.load_state(str(path / "accelerate"))
    state = json.loads(state_file.read_text())
    teacher_file = path / TEACHER_FILE
    import torch

    teacher_state = torch.load(teacher_file, map_location="cpu") if teacher_file.is_file() else None
    return state, teacher_state
