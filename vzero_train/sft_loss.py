"""The supervised fine-tuning loss: negative log-likelihood of a reference answer after a prompt.

SFT scores the answer's tokens exactly as the OPD trainer scores sampled responses: the prompt is
encoded with its images by the processor (left-padded), the answer's ids (plus the end-of-turn
token) are appended, and :func:`vzero_core.vlm.replay.response_logprobs` gives each answer token's
log-prob. One code path for both keeps the prompt format, image handling and token alignment of
supervised and on-policy training identical.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from vzero_core.vlm.option_scoring import answer_token_ids  # shared with the evidence audit
from vzero_core.vlm.prompts import encode_prompts
from vzero_core.vlm.replay import response_logprobs


def answer_nll(
    model: Any,
    processor: Any,
    prompts: Sequence[str],
    images: Sequence[Sequence[Any]],
    answers: Sequence[str],
    *,
    nested_images: bool,
    chunk_size: int = 256,
) -> tuple[torch.Tensor, int]:
    """Summed negative log-likelihood of the answers' tokens (with gradient) and their count.

    ``prompts`` are rendered prompt strings (up to the assistant turn), ``images`` one list of
    images per prompt in template order.
    """
    if not (len(prompts) == len(images) == len(answers)):
        raise ValueError(f"{len(prompts)} prompts, {len(images)} image lists, {len(answers)} answers")
    device = next(model.parameters()).device
    enc = encode_prompts(processor, prompts, images, nested_images=nested_images).to(device)
    ids, mask = answer_token_ids(processor.tokenizer, answers)
    logprobs = response_logprobs(model, enc, ids.to(device), chunk_size=chunk_size)
    mask = mask.to(logprobs.device)
    return -(logprobs * mask).sum(), int(mask.sum().item())
