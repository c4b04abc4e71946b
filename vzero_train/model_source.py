"""Where a model named on the command line or in a recipe actually lives.

A model is a local folder holding ``config.json``, a training checkpoint ``checkpoints/step_N/``
(whose student is in its ``model/`` folder), or a hub id. A name that cannot be a hub id (a path with
several parts, an absolute or ``./`` path) and does not exist is a missing folder, reported as such
rather than as a hub lookup failure.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from vzero_train.checkpoint import MODEL_DIR as CHECKPOINT_MODEL_DIR
from vzero_train.checkpoint import STATE_FILE as CHECKPOINT_STATE_FILE


@dataclass(frozen=True)
class ModelSource:
    """``path``: what ``from_pretrained`` gets; ``checkpoint``: the training checkpoint folder it
    belongs to, if any (its name and ``trainer_state.json`` say which step)."""

    path: str
    checkpoint: Path | None = None

    @property
    def step(self) -> int | None:
        """The training step recorded in the checkpoint, or None outside a checkpoint."""
        if self.checkpoint is None:
            return None
        try:
            return int(json.loads((self.checkpoint / CHECKPOINT_STATE_FILE).read_text())["step"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


def could_be_hub_id(name: str) -> bool:
    """Whether ``name`` is a syntactically valid hub repo id (``name`` or ``org/name``)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(name)
    except HFValidationError:
        return False
    return True


def resolve_model_source(name_or_path: str | os.PathLike[str]) -> ModelSource:
    """Resolve a model folder, a training checkpoint folder or a hub id (see the module docstring).

    Raises ``FileNotFoundError`` for a missing folder or a folder that holds no model.
    """
    spec = str(name_or_path)
    path = Path(spec).expanduser()
    if path.is_dir():
        if (path / "config.json").is_file():
            parent = path.parent
            is_ckpt = path.name == CHECKPOINT_MODEL_DIR and (parent / CHECKPOINT_STATE_FILE).is_file()
            return ModelSource(str(path), parent if is_ckpt else None)
        inner = path / CHECKPOINT_MODEL_DIR
        if (inner / "config.json").is_file():
            return ModelSource(str(inner), path if (path / CHECKPOINT_STATE_FILE).is_file() else None)
        raise FileNotFoundError(
            f"{spec}: no model in this folder (no config.json, and no {CHECKPOINT_MODEL_DIR}/config.json "
            "as a vzero training checkpoint has)"
        )
    if path.exists():
        raise FileNotFoundError(f"not a folder: {spec}")
    if not could_be_hub_id(spec):
        raise FileNotFoundError(f"no such folder: {spec}")
    return ModelSource(spec)
