"""Teacher forcing: the log-prob of every sampled response token under a given prompt context.

Used three ways with one code path: the teacher's positive and negative replays, and the student's
own log-probs (old ones before the update, current ones with gradient during it). A prompt batch is
left-padded to length ``P``; the response (right-padded to ``T``) is appended after it, so response
token ``k`` sits at absolute position ``P + k`` and is scored by the logits at ``P + k - 1`` (the
first one by the last prompt position). Only the last ``T + 1`` positions' logits are computed
(``logits_to_keep``), and log-softmax runs in chunks so no (B, T, V) float32 tensor is kept alive.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from vzero_core.vlm.prompts import encode_prompts


def gather_token_logprobs(
    logits: torch.Tensor, tokens: torch.Tensor, *, chunk_size: int = 256
) -> torch.Tensor:
    """``log_softmax(logits)[..., tokens]`` for (B, T, V) logits and (B, T) tokens, as float32 (B, T)
    (or (B, T, K) tokens per position, as float32 (B, T, K)).

    Works ``chunk_size`` positions at a time (logsumexp in float32 on one chunk), so the peak extra
    memory is one chunk's float32 copy, not the whole sequence's; gradients flow through it.
    """
    if logits.shape[:2] != tokens.shape[:2]:
        raise ValueError(f"logits {tuple(logits.shape)} do not match tokens {tuple(tokens.shape)}")
    from torch.utils.checkpoint import checkpoint

    # with gradients, autograd would keep every chunk's float32 copy until backward: recompute it instead
    recompute = torch.is_grad_enabled() and logits.requires_grad and logits.dtype != torch.float32
    out = []
    for start in range(0, logits.shape[1], chunk_size):
        args = (logits[:, start : start + chunk_size], tokens[:, start : start + chunk_size])
        out.append(
            checkpoint(_chunk_logprobs, *args, use_reentrant=False) if recompute else _chunk_logprobs(*args)
        )
    if not out:
        return logits.new_zeros(tokens.shape, dtype=torch.float32)
    return torch.cat(out, dim=1)


def _chunk_logprobs(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    chunk = logits.float()
    return chunk.gather(-1, tokens.reshape(*tokens.shape[:2], -1)).reshape(tokens.shape) - torch.logsumexp(
        chunk, dim=-1
    ).reshape(*tokens.shape[:2], *([1] * (tokens.dim() - 2)))


def gather_logprobs_at(logits: torch.Tensor, ids: torch.Tensor, *, chunk_size: int = 256) -> torch.Tensor:
    """``log_softmax(logits)`` at ``ids`` (B, T, K) for (B, T, V) logits, as float32 (B, T, K): the
    student's log-probs of the teacher's top-k tokens, chunked like :func:`gather_token_logprobs`
    (gradients flow through it)."""
    if logits.shape[:2] != ids.shape[:2]:
        raise ValueError(f"logits {tuple(logits.shape)} do not match ids {tuple(ids.shape)}")
    return gather_token_logprobs(logits, ids, chunk_size=chunk_size)


def topk_logprobs(
    logits: torch.Tensor, k: int, *, chunk_size: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` most likely tokens at every position of (B, T, V) logits and their log-probs, as
    ``(ids (B, T, k) long, logprobs (B, T, k) float32)``; ``k`` above the vocabulary means all of it.
    No gradient (the teacher's distribution is a target)."""
    k = min(k, logits.shape[-1])
    ids, lps = [], []
    with torch.no_grad():
        for start in range(0, logits.shape[1], chunk_size):
            chunk = torch.log_softmax(logits[:, start : start + chunk_size].float(), dim=-1)
            top = chunk.topk(k, dim=-1)
            ids.append(top.indices)
            lps.append(top.values)
    if not ids:
        empty = logits.new_zeros((*logits.shape[:2], k))
        return empty.long(), empty.float()
    return torch.cat(ids, dim=1), torch.cat(lps, dim=1)


def append_response(prompt_inputs: Mapping[str, Any], response_ids: torch.Tensor) -> dict[str, Any]:
    """Model inputs for ``prompt + response``: ids and attention concatenated, multimodal token types
    (Qwen-VL's ``mm_token_type_ids``) padded with 0 (text) over the response; image tensors unchanged."""
    inputs = dict(prompt_inputs)
    ids = inputs["input_ids"]
    if ids.shape[0] != response_ids.shape[0]:
        raise ValueError(f"{ids.shape[0]} prompts but {response_ids.shape[0]} responses")
    response_ids = response_ids.to(ids.device)
    inputs["input_ids"] = torch.cat([ids, response_ids], dim=1)
    inputs["attention_mask"] = torch.cat(
        [inputs["attention_mask"], torch.ones_like(response_ids, dtype=inputs["attention_mask"].dtype)], dim=1
    )
    for key in ("mm_token_type_ids", "token_type_ids"):
        if key in inputs and inputs[key] is not None:
            inputs[key] = torch.cat(
                [inputs[key], torch.zeros_like(response_ids, dtype=inputs[key].dtype)], dim=1
            )
    return inputs


def response_logits(model: Any, prompt_inputs: Mapping[str, Any], response_ids: torch.Tensor) -> torch.Tensor:
    """The logits (B, T, V) predicting each token of ``response_ids`` after the (left-padded)
    prompts in ``prompt_inputs``; with whatever grad mode is active."""
    prompt_len = prompt_inputs["input_ids"].shape[1]
    T = response_ids.shape[1]
    inputs = append_response(prompt_inputs, response_ids)
    logits = model(**inputs, logits_to_keep=T + 1, use_cache=False).logits
    # kept positions are P-1 .. P+T-1; the last one predicts past the response
    if logits.shape[1] != T + 1:  # a model that ignores logits_to_keep returns every position
        logits = logits[:, prompt_len - 1 :]
    return logits[:, :T]


def response_logprobs(
    model: Any, prompt_inputs: Mapping[str, Any], response_ids: torch.Tensor, *, chunk_size: int = 256
) -> torch.Tensor:
    """Log-probs (B, T) of ``response_ids`` following the (left-padded) prompts in ``prompt_inputs``.

    Runs with whatever grad mode is active: wrap in ``torch.no_grad()`` for replays.
    """
    logits = response_logits(model, prompt_inputs, response_ids)
    return gather_token_logprobs(logits, response_ids.to(logits.device), chunk_size=chunk_size)


def response_logprobs_at(
    model: Any,
    prompt_inputs: Mapping[str, Any],
    response_ids: torch.Tensor,
    at_ids: torch.Tensor,
    *,
    chunk_size: int = 256,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`response_logprobs` (B, T) and, from the same forward, the log-probs (B, T, K) of the
    tokens ``at_ids`` at every response position (the teacher's top-k, for a distribution loss)."""
    logits = response_logits(model, prompt_inputs, response_ids)
    tokens = gather_token_logprobs(logits, response_ids.to(logits.device), chunk_size=chunk_size)
    return tokens, gather_logprobs_at(logits, at_ids.to(logits.device), chunk_size=chunk_size)


def replay_logprobs(
    model: Any,
    processor: Any,
    prompts: Sequence[str],
    images: Sequence[Sequence[Any]],
    response_ids: torch.Tensor,
    *,
    nested_images: bool,
    micro_batch_size: int = 8,
    chunk_size: int = 256,
    device: torch.device | str | None = None,
    topk: int | None = None,
) -> Any:
    """Teacher-forced log-probs (N, T) of ``response_ids[i]`` after rendered prompt ``prompts[i]``
    with ``images[i]``, ``micro_batch_size`` sequences per forward, without gradient. Returned on CPU.

    With ``topk``, returns ``(logprobs, topk_ids, topk_logprobs)``: also the ``topk`` most likely
    tokens (N, T, k) at every response position and their log-probs (all of the vocabulary when
    ``topk`` exceeds it).
    """
    if not (len(prompts) == len(images) == response_ids.shape[0]):
        raise ValueError(
            f"{len(prompts)} prompts, {len(images)} image lists, {response_ids.shape[0]} responses"
        )
    device = torch.device(device) if device is not None else next(model.parameters()).device
    out = torch.zeros(response_ids.shape, dtype=torch.float32)
    top_ids: list[torch.Tensor] = []
    top_lps: list[torch.Tensor] = []
    with torch.no_grad():
        for start in range(0, len(prompts), micro_batch_size):
            stop = min(start + micro_batch_size, len(prompts))
            enc = encode_prompts(
                processor, prompts[start:stop], images[start:stop], nested_images=nested_images
            )
            enc = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in enc.items()}
            ids = response_ids[start:stop].to(device)
            logits = response_logits(model, enc, ids)
            out[start:stop] = gather_token_logprobs(logits, ids, chunk_size=chunk_size).float().cpu()
            if topk:
                top = topk_logprobs(logits, topk, chunk_size=chunk_size)
                top_ids.append(top[0].cpu())
                top_lps.append(top[1].cpu())
    if topk:
        return out, torch.cat(top_ids), torch.cat(top_lps)
    return out


def encoded_logprobs(
    model: Any,
    encoded: Any,
    prompt_index: Sequence[int],
    response_ids: torch.Tensor,
    *,
    micro_batch_size: int = 8,
    chunk_size: int = 256,
) -> torch.Tensor:
    """:func:`replay_logprobs` for prompts encoded once (:class:`vzero_core.vlm.vision_cache.EncodedPrompts`
    on the model's device): row ``i`` continues prompt ``prompt_index[i]``, reusing its preprocessing
    and vision features. No gradient; returned on CPU."""
    if len(prompt_index) != response_ids.shape[0]:
        raise ValueError(f"{len(prompt_index)} prompt indices, {response_ids.shape[0]} responses")
    out = torch.zeros(response_ids.shape, dtype=torch.float32)
    device = encoded.text["input_ids"].device
    with torch.no_grad():
        for start in range(0, len(prompt_index), micro_batch_size):
            stop = min(start + micro_batch_size, len(prompt_index))
            inputs = encoded.rows(prompt_index[start:stop])
            lp = response_logprobs(model, inputs, response_ids[start:stop].to(device), chunk_size=chunk_size)
            out[start:stop] = lp.float().cpu()
    return out
