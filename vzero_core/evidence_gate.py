"""The contrastive evidence gate's weights: pure tensor functions, no gradient (docs/method.md).

For each response the teacher's log-probs of the sampled tokens under the positive view (``l_plus``)
and the negative view (``l_minus``) give a per-token evidence margin ``delta = l_plus - l_minus``.
Margins are scored asymmetrically (``relu(delta) - gamma * relu(-delta)``), averaged over the
response, standardized within each prompt's group of G samples (population std; a group of one
gets 0), and mapped to a weight ``clip(1 + alpha * a, w_min, w_max)``. Trajectories the teacher
finds better supported by the real evidence than by the negative view are up-weighted.

The trainer (:mod:`vzero_train.gating`) weights its rollouts with these; the evidence audit
(:mod:`vzero_data.audit`) reports the weight the trainer would give a reference answer.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import torch


def evidence_scores(
    l_plus: torch.Tensor, l_minus: torch.Tensor, mask: torch.Tensor, *, gamma: float = 1.0, eps: float = 1e-6
) -> torch.Tensor:
    """Per-sequence score ``p``: the masked mean of ``relu(delta) - gamma * relu(-delta)``, shape (B,)."""
    _check_shapes(l_plus, l_minus, mask)
    m = mask.to(torch.float32)
    delta = l_plus.float() - l_minus.float()
    s = torch.relu(delta) - gamma * torch.relu(-delta)
    s = torch.where(mask.bool(), s, torch.zeros_like(s))  # padding may hold -inf/nan: never let it leak
    length = m.sum(-1).clamp_min(eps)
    return s.sum(-1) / length


def group_ids_tensor(
    group_ids: Sequence[Hashable] | torch.Tensor, device: torch.device | None = None
) -> torch.Tensor:
    """Dense integer codes (0..n_groups-1) for arbitrary hashable group ids, in first-seen order."""
    if isinstance(group_ids, torch.Tensor):
        group_ids = group_ids.tolist()
    codes: dict[Hashable, int] = {}
    dense = [codes.setdefault(g, len(codes)) for g in group_ids]
    return torch.tensor(dense, dtype=torch.long, device=device)


def group_standardize(
    scores: torch.Tensor, group_ids: Sequence[Hashable] | torch.Tensor, *, eps: float = 1e-6
) -> torch.Tensor:
    """``(p - group mean) / (population std + eps)`` within each group; singleton groups get 0."""
    if scores.dim() != 1:
        raise ValueError(f"scores must be 1-D (B,), got shape {tuple(scores.shape)}")
    codes = group_ids_tensor(group_ids, scores.device)
    if codes.numel() != scores.numel():
        raise ValueError(f"{codes.numel()} group ids for {scores.numel()} sequences")
    n_groups = int(codes.max()) + 1 if codes.numel() else 0
    scores = scores.float()
    count = torch.zeros(n_groups, device=scores.device).index_add_(0, codes, torch.ones_like(scores))
    mean = torch.zeros(n_groups, device=scores.device).index_add_(0, codes, scores) / count
    centered = scores - mean[codes]
    var = torch.zeros(n_groups, device=scores.device).index_add_(0, codes, centered**2) / count
    a = centered / (var.sqrt()[codes] + eps)
    return torch.where(count[codes] > 1, a, torch.zeros_like(a))


def evidence_weights(
    l_plus: torch.Tensor,
    l_minus: torch.Tensor,
    mask: torch.Tensor,
    group_ids: Sequence[Hashable] | torch.Tensor,
    *,
    gamma: float = 1.0,
    alpha: float = 0.5,
    w_min: float = 0.0,
    w_max: float = 2.0,
    eps: float = 1e-6,
) -> torch.Tensor:
    """The gate's per-sequence weights ``clip(1 + alpha * a, w_min, w_max)``, float32 (B,), detached.

    ``l_plus``, ``l_minus`` and ``mask`` are (B, T) over response tokens; ``group_ids`` has one id per
    sequence (sequences sampled from the same prompt share an id).
    """
    if w_min > w_max:
        raise ValueError(f"w_min ({w_min}) must not exceed w_max ({w_max})")
    with torch.no_grad():
        p = evidence_scores(l_plus, l_minus, mask, gamma=gamma, eps=eps)
        a = group_standardize(p, group_ids, eps=eps)
        return (1.0 + alpha * a).clamp(w_min, w_max).to(torch.float32)


def _check_shapes(l_plus: torch.Tensor, l_minus: torch.Tensor, mask: torch.Tensor) -> None:
    if l_plus.dim() != 2 or l_plus.shape != l_minus.shape or l_plus.shape != mask.shape:
        raise ValueError(
            "l_plus, l_minus and mask must share one (B, T) shape, got "
            f"{tuple(l_plus.shape)}, {tuple(l_minus.shape)}, {tuple(mask.shape)}"
        )
