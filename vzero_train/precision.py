"""Mixed precision for the student: which mode a run uses, and keeping a VLM's logits in bf16.

accelerate casts every output of a prepared model to float32. For a VLM that cast is a float32 copy
of the (B, T, V) logits, which the log-prob gather then saves for backward: the whole sequence's
float32 logits would stay alive through the update. :func:`keep_outputs_in_compute_dtype` removes
that cast (its autocast stays); the log-probs are upcast one chunk at a time instead
(:func:`vzero_core.vlm.replay.gather_token_logprobs`) and come out the same.
"""

from __future__ import annotations

import types
from typing import Any

import torch


def mixed_precision_mode(mixed_precision: str, device: str) -> str:
    """The recipe's ``mixed_precision``; ``auto`` is bf16 on a bf16-capable GPU, else ``no``."""
    if mixed_precision != "auto":
        return mixed_precision
    on_gpu = torch.cuda.is_available() and device not in ("cpu", "mps")
    return "bf16" if on_gpu and torch.cuda.is_bf16_supported() else "no"


def keep_outputs_in_compute_dtype(model: Any) -> None:
    """Undo accelerate's cast of every output of a prepared model to float32 (its autocast stays).

    This reaches into accelerate: a prepared model's ``forward`` is wrapped by
    ``ConvertOutputsToFp32``; the wrapper is replaced by the forward it wraps. Does nothing when the
    model was not wrapped (no mixed precision).
    """
    from accelerate.utils.operations import ConvertOutputsToFp32

    forward = model.forward
    cast = getattr(getattr(forward, "__func__", forward), "__wrapped__", None)
    if isinstance(cast, ConvertOutputsToFp32):
        inner = cast.model_forward
        model.forward = types.MethodType(inner, model) if hasattr(forward, "__func__") else inner
