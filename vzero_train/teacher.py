"""Teachers (docs/method.md, "Teachers"): an external frozen model, or the student's own weights.

A teacher never generates; it only replays the student's tokens (:mod:`vzero_core.vlm.replay`).
Three kinds:

- ``external``: a separate frozen checkpoint that shares the student's tokenizer (checked).
- ``frozen_self``: a frozen copy of the student's initial weights.
- ``ema``: an exponential moving average of the student, ``theta_T <- d theta_T + (1 - d) theta_S``
  after every optimizer update or once per training step (``teacher.ema_every``), held in float32
  (bf16 loses 0.02-sized increments); ``d = 0`` copies the latest student.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any, Literal

import torch

from vzero_core.hf_loading import resolve_dtype
from vzero_core.vlm.models import LoadedVLM, check_same_tokenizer, load_vlm

logger = logging.getLogger(__name__)

TeacherKind = Literal["external", "frozen_self", "ema"]
TEACHER_KINDS: tuple[str, ...] = ("external", "frozen_self", "ema")


@dataclass
class Teacher:
    """A frozen scoring model with its processor; :meth:`update` is a no-op except for EMA teachers."""

    model: Any
    processor: Any
    nested_images: bool
    kind: str
    decay: float | None = None

    def update(self, student: Any) -> None:
        """Move an EMA teacher toward ``student`` (others stay frozen); the trainer calls it at the
        cadence of ``teacher.ema_every``."""
        if self.kind == "ema":
            ema_update(self.model, student, self.decay or 0.0)

    def state_dict(self) -> dict[str, torch.Tensor] | None:
        """What a checkpoint must keep: the EMA weights (other teachers are rebuilt from their source)."""
        return self.model.state_dict() if self.kind == "ema" else None

    def load_state_dict(self, state: dict[str, torch.Tensor] | None) -> None:
        if self.kind == "ema":
            if state is None:
                raise ValueError("checkpoint has no EMA teacher state but the run uses an EMA teacher")
            self.model.load_state_dict(state)


@torch.no_grad()
def ema_update(teacher: torch.nn.Module, student: torch.nn.Module, decay: float) -> None:
    """``t <- decay * t + (1 - decay) * s`` for every parameter, in the teacher's (float32) precision;
    buffers are copied. Parameters are matched by name and must all exist in both models."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
    s_params = dict(student.named_parameters())
    for name, t in teacher.named_parameters():
        if name not in s_params:
            raise KeyError(f"EMA teacher parameter {name!r} has no student counterpart")
        s = s_params[name].detach().to(device=t.device, dtype=t.dtype)
        if decay == 0.0:
            t.copy_(s)
        else:
            t.mul_(decay).add_(s, alpha=1.0 - decay)
    s_buffers = dict(student.named_buffers())
    for name, b in teacher.named_buffers():
        if name in s_buffers:
            b.copy_(s_buffers[name].to(device=b.device, dtype=b.dtype))


def build_teacher(
    kind: TeacherKind,
    student: LoadedVLM,
    *,
    path: str | None = None,
    decay: float = 0.98,
    device: str | torch.device = "auto",
    dtype: str = "auto",
) -> Teacher:
    """Make the teacher for ``student`` (call before the student is wrapped for distributed training).

    Self-teachers copy the student's current weights: ``frozen_self`` in ``dtype`` (it never
    changes), ``ema`` always in float32.
    """
    if kind == "external":
        if not path:
            raise ValueError("an external teacher needs a model path or hub id (teacher.path)")
        loaded = load_vlm(path, device=str(device), dtype=dtype)
        check_same_tokenizer(student.tokenizer, loaded.tokenizer)
        return Teacher(loaded.model, loaded.processor, loaded.nested_images, kind)
    if kind not in ("frozen_self", "ema"):
        raise ValueError(f"unknown teacher kind {kind!r}; known: {', '.join(TEACHER_KINDS)}")
    if path:
        logger.warning("teacher.path %r is ignored for a %s teacher (it copies the student)", path, kind)
    model = copy.deepcopy(student.model)
    if kind == "ema":
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay}")
        model.to(torch.float32)
    else:
        model.to(resolve_dtype(dtype, next(model.parameters()).device))
    model.eval()
    model.requires_grad_(False)
    return Teacher(model, student.processor, student.nested_images, kind, decay if kind == "ema" else None)
