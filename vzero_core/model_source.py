"""Where a named model lives, and, in command-line words, why it cannot be loaded before transformers
tries.

A model is a local folder holding ``config.json``, a training checkpoint ``checkpoints/step_N/``
(whose student is in its ``model/`` folder; :func:`resolve_model_source`), or a hub id.

A name is a local folder or a Hugging Face hub id. A missing local folder is "no such folder"
(not a hub-id error); a hub id that is not in the local cache cannot load when the hub is switched
off (``HF_HUB_OFFLINE``) or unreachable, and that is detected in seconds with one connection
attempt, instead of after the hub client's minutes of retries.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

NETWORK_TIMEOUT_S = 3.0
# A vzero training checkpoint folder holds its student in MODEL_DIR and its step in STATE_FILE.
CHECKPOINT_MODEL_DIR = "model"
CHECKPOINT_STATE_FILE = "trainer_state.json"
_TRUE_WORDS = ("1", "true", "yes", "on")


class ModelUnavailable(ValueError):
    """A model that cannot be loaded here; the message says what to do."""


def looks_like_local_path(name: str) -> bool:
    """Whether ``name`` can only mean a folder (``./m``, ``/models/m``, ``~/m``, ``a/b/c``, ``m/``):
    hub ids are ``name`` or ``org/name``."""
    return (
        name.startswith(("/", "./", "../", "~", ".\\"))
        or name.endswith(("/", os.sep))
        or name.count("/") > 1
        or (os.sep != "/" and os.sep in name)
    )


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set to a true value."""
    return any(
        os.environ.get(var, "").strip().lower() in _TRUE_WORDS
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def hub_reachable(timeout: float = NETWORK_TIMEOUT_S) -> bool:
    """One TCP connection to the hub endpoint (``HF_ENDPOINT``, default huggingface.co:443)."""
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (80 if url.scheme == "http" else 443)
    try:
        with socket.create_connection((url.hostname or "huggingface.co", port), timeout=timeout):
            return True
    except OSError:
        return False


def in_hub_cache(repo_id: str) -> bool:
    """Whether the hub cache holds ``repo_id``'s config (the first file any loader reads)."""
    from huggingface_hub import try_to_load_from_cache

    for filename in ("config.json", "preprocessor_config.json", "processor_config.json"):
        try:
            if isinstance(try_to_load_from_cache(repo_id, filename), str):
                return True
        except ValueError:  # not a valid repo id
            return False
    return False


def model_source_problem(name: str, *, what: str = "model") -> str | None:
    """Why ``name`` cannot be loaded here, or ``None`` when it can be tried."""
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            return f"{what} {name}: not a folder (a saved model is a folder with config.json)"
        return None
    if looks_like_local_path(name):
        return f"{what} {name}: no such folder"
    if in_hub_cache(name):
        return None
    if hub_offline():
        return (
            f"{what} {name!r} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: download "
            f"it where there is network (`hf download {name}`), or point at a local folder"
        )
    if not hub_reachable():
        return (
            f"{what} {name!r} is not in the local Hugging Face cache and the hub is unreachable (no "
            f"network?): download it where there is network (`hf download {name}`), or point at a "
            "local folder"
        )
    return None


def require_model_source(name: str | os.PathLike[str], *, what: str = "model") -> None:
    """Raise :class:`ModelUnavailable` when :func:`model_source_problem` finds a problem."""
    problem = model_source_problem(str(name), what=what)
    if problem:
        raise ModelUnavailable(problem)


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
