"""The V-Zero loss (docs/method.md, "One training step"): gated sampled-token reverse KL in a PPO surrogate.

The advantage of response token k is ``A[k] = -w * clamp(log p_student(y_k) - l_plus[k], -c, c)``,
detached: the k1 estimator of the reverse KL to the POSITIVE teacher, scaled by the sequence's gate
weight. It enters a PPO clipped surrogate (ratio ``p_theta / p_old``, clip 0.2, dual clip 3.0 for
negative advantages) whose per-token losses are aggregated either as the token mean over the
mini-batch of all processes (the released code) or per sequence then per group (the paper's formula).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Literal

import torch

from vzero_train.gating import group_ids_tensor

Aggregation = Literal["token-mean", "seq-mean-group-mean"]
AGGREGATIONS: tuple[str, ...] = ("token-mean", "seq-mean-group-mean")


def opd_token_advantages(
    student_logprobs: torch.Tensor,
    teacher_logprobs: torch.Tensor,
    weights: torch.Tensor,
    mask: torch.Tensor,
    *,
    clamp: float = 10.0,
) -> torch.Tensor:
    """``-w * clamp(student - teacher, -clamp, clamp)`` on response tokens, 0 elsewhere; (B, T), detached."""
    if student_logprobs.shape != teacher_logprobs.shape or student_logprobs.shape != mask.shape:
        raise ValueError(
            "student_logprobs, teacher_logprobs and mask must share one (B, T) shape, got "
            f"{tuple(student_logprobs.shape)}, {tuple(teacher_logprobs.shape)}, {tuple(mask.shape)}"
        )
    if weights.shape != student_logprobs.shape[:1]:
        raise ValueError(
            f"weights must be (B,) = {tuple(student_logprobs.shape[:1])}, got {tuple(weights.shape)}"
        )
    with torch.no_grad():
        d = (student_logprobs.float() - teacher_logprobs.float()).clamp(-clamp, clamp)
        return torch.where(mask.bool(), -weights.float()[:, None] * d, torch.zeros_like(d))


def clipped_surrogate(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    *,
    clip_ratio: float = 0.2,
    dual_clip: float | None = 3.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Per-token PPO losses with dual clip, and per-token diagnostics (ratio, clipped flags).

    ``loss = max(-A r, -A clip(r, 1-eps, 1+eps))``; where ``A < 0`` it is further capped at
    ``-A * dual_clip`` so a huge ratio on a bad token cannot blow the step up.
    """
    log_ratio = (logprobs - old_logprobs.detach()).clamp(-20.0, 20.0)
    ratio = torch.exp(log_ratio)
    unclipped = -advantages * ratio
    clipped = -advantages * ratio.clamp(1.0 - clip_ratio, 1.0 + clip_ratio)
    loss = torch.maximum(unclipped, clipped)
    info = {"ratio": ratio.detach(), "clipped": (clipped > unclipped).detach()}
    if dual_clip is not None:
        if dual_clip <= 1.0:
            raise ValueError(f"dual_clip must be > 1, got {dual_clip}")
        capped = torch.minimum(loss, -advantages * dual_clip)
        info["dual_clipped"] = ((advantages < 0) & (loss > capped)).detach()
        loss = torch.where(advantages < 0, capped, loss)
    return loss, info


def token_weights(
    mask: torch.Tensor,
    group_ids: Sequence[Hashable] | torch.Tensor,
    aggregation: Aggregation = "token-mean",
    *,
    total_tokens: float | torch.Tensor | None = None,
    num_processes: int = 1,
) -> torch.Tensor:
    """Per-token coefficients so that ``sum(per_token_loss * coefficients)`` is the aggregated loss.

    Computed once over a whole mini-batch, they let micro-batches accumulate gradients that add up
    exactly to the mini-batch loss. ``token-mean``: ``num_processes / total_tokens``, where
    ``total_tokens`` counts the response tokens of the mini-batch on every process (default: this
    process's); data-parallel training averages gradients over processes, so the ``num_processes``
    factor makes the result the global token mean over all processes' tokens. ``seq-mean-group-mean``:
    each sequence's token mean, averaged within its group, then over this process's groups (every
    process holds as many groups, so the average over processes is the mean over all groups).
    """
    m = mask.to(torch.float32)
    if aggregation == "token-mean":
        total = m.sum() if total_tokens is None else torch.as_tensor(total_tokens, dtype=torch.float32)
        return m * num_processes / total.to(m.device).clamp_min(1.0)
    if aggregation == "seq-mean-group-mean":
        codes = group_ids_tensor(group_ids, m.device)
        if codes.numel() != m.shape[0]:
            raise ValueError(f"{codes.numel()} group ids for {m.shape[0]} sequences")
        group_size = torch.bincount(codes).to(torch.float32)
        n_groups = float(group_size.numel())
        per_seq = 1.0 / (m.sum(-1).clamp_min(1.0) * group_size[codes] * n_groups)
        return m * per_seq[:, None]
    raise ValueError(f"unknown aggregation {aggregation!r}; known: {', '.join(AGGREGATIONS)}")


def policy_loss(
    logprobs: torch.Tensor,
    old_logprobs: torch.Tensor,
    advantages: torch.Tensor,
    coefficients: torch.Tensor,
    *,
    clip_ratio: float = 0.2,
    dual_clip: float | None = 3.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The surrogate summed with ``coefficients`` (from :func:`token_weights`), plus diagnostics."""
    per_token, info = clipped_surrogate(
        logprobs, old_logprobs, advantages, clip_ratio=clip_ratio, dual_clip=dual_clip
    )
    loss = (per_token * coefficients).sum()
    m = coefficients > 0
    n = m.sum().clamp_min(1)
    stats = {
        "loss/clipfrac": ((info["clipped"] & m).sum() / n).item(),
        "loss/ratio_mean": ((info["ratio"] * m).sum() / n).item(),
    }
    if "dual_clipped" in info:
        stats["loss/dual_clipfrac"] = ((info["dual_clipped"] & m).sum() / n).item()
    return loss, stats


Baseline = Literal["none", "group_mean", "leave_one_out"]
BASELINES: tuple[str, ...] = ("none", "group_mean", "leave_one_out")


def with_group_baseline(
    advantages: torch.Tensor,
    mask: torch.Tensor,
    group_ids: Sequence[Hashable] | torch.Tensor,
    kind: Baseline = "none",
) -> torch.Tensor:
    """Token advantages (B, T) whose per-sequence sums are centred within each prompt's group.

    A sequence's advantage is the sum of its token advantages, ``s_i``; its baseline ``b_i`` is the
    group's mean of ``s`` (``group_mean``) or the mean of the other sequences' (``leave_one_out``;
    a sequence alone in its group gets 0). ``b_i`` is taken off evenly over the sequence's response
    tokens, so the token-level shape stays and the sequence now sums to ``s_i - b_i``. A deviation
    from the paper (which has no baseline): it removes what every sample of a prompt shares, the
    bulk of the sampled-token estimator's variance at small scale.
    """
    if kind == "none":
        return advantages
    if kind not in BASELINES:
        raise ValueError(f"unknown baseline {kind!r}; known: {', '.join(BASELINES)}")
    m = mask.to(advantages.dtype)
    codes = group_ids_tensor(group_ids, advantages.device)
    s = (advantages * m).sum(-1)
    n_groups = int(codes.max()) + 1 if codes.numel() else 0
    totals = torch.zeros(n_groups, dtype=s.dtype, device=s.device).index_add_(0, codes, s)
    sizes = torch.bincount(codes, minlength=n_groups).to(s.dtype)
    if kind == "group_mean":
        b = totals[codes] / sizes[codes]
    else:
        others = (sizes[codes] - 1).clamp_min(1.0)
        b = torch.where(sizes[codes] > 1, (totals[codes] - s) / others, torch.zeros_like(s))
    length = m.sum(-1).clamp_min(1.0)
    return torch.where(mask.bool(), advantages - (b / length)[:, None], torch.zeros_like(advantages))


def topk_reverse_kl(student_lp: torch.Tensor, teacher_lp: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Reverse KL(student || teacher) per position (B, T) over the teacher's top-k tokens plus one
    bucket for the rest of the vocabulary.

    ``student_lp`` and ``teacher_lp`` (B, T, K) are both models' log-probs of the same K tokens
    (the teacher's most likely). The mass outside them, ``1 - sum(p)``, is one more outcome on each
    side, so the result is the KL of the two distributions coarsened to K + 1 outcomes: never
    negative, at most the full KL, and equal to it when K covers the vocabulary. Differentiable in
    ``student_lp``; the teacher is a constant.
    """
    if student_lp.shape != teacher_lp.shape:
        raise ValueError(f"student {tuple(student_lp.shape)} and teacher {tuple(teacher_lp.shape)} differ")
    s = student_lp.float()
    t = teacher_lp.float().detach()
    p = s.exp()
    head = (p * (s - t)).sum(-1)
    tail_s = (1.0 - p.sum(-1)).clamp_min(eps)
    tail_t = (1.0 - t.exp().sum(-1)).clamp_min(eps)
    return head + tail_s * (tail_s.log() - tail_t.log())


def distillation_loss(
    student_lp: torch.Tensor,
    teacher_lp: torch.Tensor,
    weights: torch.Tensor,
    coefficients: torch.Tensor,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The gated distribution loss: ``sum(coefficients * w * KL)`` with the per-position reverse KL of
    :func:`topk_reverse_kl`, ``w`` the sequence's gate weight (B,) and ``coefficients`` (B, T) from
    :func:`token_weights`. It is a direct loss on the student's distribution (no ratio, no clip)."""
    kl = topk_reverse_kl(student_lp, teacher_lp)
    loss = (kl * weights.float()[:, None].to(kl.device) * coefficients).sum()
    m = coefficients > 0
    return loss, {"loss/reverse_kl": float((kl.detach() * m).sum() / m.sum().clamp_min(1))}
