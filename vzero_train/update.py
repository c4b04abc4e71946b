"""The PPO update of one step: ``num_mini_batches`` AdamW updates over the step's sampled responses.

Rows are split into mini-batches by prompt (a group's G samples stay together); each mini-batch
accumulates gradients over micro-batches whose per-token coefficients
(:func:`vzero_train.losses.token_weights`) make the micro-batch losses add up to the mini-batch
loss; with ``token-mean`` that is the mean over every response token of the mini-batch on every
process (the token count is summed over processes), whatever each process's own count. An update whose loss or gradient norm is not finite on any process is skipped on all of them.

Rows of a step encoded once (``batch.encoded``) reuse that preprocessing. A frozen vision tower's
features are reused as they are; a trainable one runs, with gradient, once per distinct image of a
micro-batch (:func:`vzero_core.vlm.vision_cache.rows_with_fresh_features`), except under FSDP, which
shards the tower inside the wrapped forward: there each row's pixels go through that forward.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import torch

from vzero_core.vlm.prompts import encode_prompts
from vzero_core.vlm.replay import response_logprobs, response_logprobs_at
from vzero_core.vlm.vision_cache import rows_with_fresh_features, vision_requires_grad
from vzero_train.config import TrainConfig
from vzero_train.losses import distillation_loss, policy_loss, token_weights
from vzero_train.step import StepResult

logger = logging.getLogger(__name__)


def ppo_update(
    batch: StepResult,
    *,
    model: Any,
    optimizer: Any,
    scheduler: Any,
    accelerator: Any,
    processor: Any,
    nested_images: bool,
    config: TrainConfig,
    rows_per_mini_batch: int,
    after_update: Callable[[], None] = lambda: None,
    step: int = 0,
) -> dict[str, float]:
    """Optimizer updates over ``batch``, ``rows_per_mini_batch`` rows each; ``after_update`` runs after
    every applied update (the EMA teacher's per-update cadence). Returns the update's mean statistics
    (``loss/...``, ``grad_norm``, ``skipped_updates``); ``step`` only labels warnings."""
    from accelerate.utils import DistributedType

    acc, rollout = accelerator, batch.rollout
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    train_tower = batch.encoded is not None and vision_requires_grad(acc.unwrap_model(model))
    tower_in_forward = train_tower and acc.distributed_type == DistributedType.FSDP
    for mb_start in range(0, len(rollout), rows_per_mini_batch):
        mb = slice(mb_start, mb_start + rows_per_mini_batch)
        mask = rollout.response_mask[mb]
        total_tokens = None  # token-mean: every process's tokens count, over the global token count
        if config.loss.aggregation == "token-mean":
            local = mask.sum().to(device=acc.device, dtype=torch.float32)
            total_tokens = acc.reduce(local, reduction="sum")
        coefficients = token_weights(
            mask,
            rollout.group_ids[mb],
            config.loss.aggregation,
            total_tokens=total_tokens,
            num_processes=acc.num_processes,
        )
        finite, mb_loss = True, 0.0
        micro_starts = list(range(mb_start, mb.stop, config.micro_batch_size))
        for n, start in enumerate(micro_starts):
            stop = min(start + config.micro_batch_size, mb.stop)
            sync = contextlib.nullcontext() if n == len(micro_starts) - 1 else acc.no_sync(model)
            with sync:
                index = rollout.prompt_index[start:stop]
                if batch.encoded is None:
                    enc = encode_prompts(
                        processor,
                        batch.prompts[start:stop],
                        batch.images[start:stop],
                        nested_images=nested_images,
                    ).to(acc.device)
                elif train_tower and not tower_in_forward:
                    with acc.autocast():
                        enc = rows_with_fresh_features(acc.unwrap_model(model), batch.encoded, index)
                else:
                    enc = batch.encoded.rows(index, pixels=tower_in_forward)
                ids = rollout.response_ids[start:stop].to(acc.device)
                coeff = coefficients[start - mb_start : stop - mb_start].to(acc.device)
                if batch.teacher_topk is None:  # k1: the sampled token's advantage in the PPO surrogate
                    with acc.autocast():
                        logprobs = response_logprobs(model, enc, ids, chunk_size=config.logprob_chunk_size)
                    loss, stats = policy_loss(
                        logprobs,
                        batch.old_logprobs[start:stop].to(acc.device),
                        batch.advantages[start:stop].to(acc.device),
                        coeff,
                        clip_ratio=config.loss.clip_ratio,
                        dual_clip=config.loss.dual_clip,
                    )
                else:  # topk / full: the gated reverse KL to the teacher's distribution, directly
                    teacher_ids, teacher_lp = batch.teacher_topk
                    with acc.autocast():
                        _, student_lp = response_logprobs_at(
                            model, enc, ids, teacher_ids[start:stop], chunk_size=config.logprob_chunk_size
                        )
                    loss, stats = distillation_loss(
                        student_lp, teacher_lp[start:stop].to(acc.device), batch.weights[start:stop], coeff
                    )
                finite = finite and bool(torch.isfinite(loss))
                acc.backward(loss)
            mb_loss += loss.item()
            for key, value in stats.items():
                sums[key] += value
                counts[key] += 1
        sums["loss/policy"] += mb_loss
        counts["loss/policy"] += 1
        grad_norm = acc.clip_grad_norm_(model.parameters(), config.optim.grad_clip)
        grad_norm = float(grad_norm) if grad_norm is not None else float("nan")
        bad = torch.tensor(0.0 if finite and math.isfinite(grad_norm) else 1.0, device=acc.device)
        if acc.reduce(bad, reduction="sum").item() > 0:
            logger.warning(
                "step %d: non-finite loss or gradient norm (%s); skipping this update", step, grad_norm
            )
            optimizer.zero_grad(set_to_none=True)
            sums["skipped_updates"] += 1
            continue
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        after_update()
        sums["grad_norm"] += grad_norm
        counts["grad_norm"] += 1
    out = {key: value / counts[key] if counts[key] else value for key, value in sums.items()}
    out.setdefault("skipped_updates", 0.0)
    return out
