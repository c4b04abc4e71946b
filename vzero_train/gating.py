"""The contrastive evidence gate (docs/method.md, "One training step"): per-sequence weights, no gradient.

For each response the teacher's log-probs of the sampled tokens under the positive view (``l_plus``)
and the negative view (``l_minus``) give a per-token evidence margin ``delta = l_plus - l_minus``.
Margins are scored asymmetrically (``relu(delta) - gamma * relu(-delta)``), averaged over the
response, standardized within each prompt's group of G samples (population std; a group of one
gets 0), and mapped to a weight ``clip(1 + alpha * a, w_min, w_max)``. Trajectories the teacher
finds better supported by the real evidence than by the negative view are up-weighted.
"""

from __future__ import annotations

import torch

from vzero_core.evidence_gate import (  # the weights live in the core: the evidence audit computes them too
    evidence_scores,
    evidence_weights,
    group_ids_tensor,
    group_standardize,
)

__all__ = ["evidence_scores", "evidence_weights", "gate_metrics", "group_ids_tensor", "group_standardize"]


def gate_metrics(
    l_plus: torch.Tensor,
    l_minus: torch.Tensor,
    mask: torch.Tensor,
    weights: torch.Tensor,
    *,
    gamma: float = 1.0,
    w_min: float = 0.0,
    eps: float = 1e-6,
) -> dict[str, float]:
    """What the gate did this step: score mean/std, weight mean/min/max, fraction at ``w_min``, and
    the token-level evidence margin (mean delta, fraction of delta > 0) over response tokens."""
    with torch.no_grad():
        p = evidence_scores(l_plus, l_minus, mask, gamma=gamma, eps=eps)
        m = mask.bool()
        delta = (l_plus.float() - l_minus.float())[m]  # response tokens only
        w = weights.float()
        return {
            "gate/score_mean": p.mean().item(),
            "gate/score_std": p.std(unbiased=False).item(),
            "gate/weight_mean": w.mean().item(),
            "gate/weight_min": w.min().item(),
            "gate/weight_max": w.max().item(),
            "gate/frac_at_w_min": (w <= w_min).float().mean().item(),
            "gate/delta_mean": delta.mean().item() if delta.numel() else 0.0,
            "gate/frac_delta_pos": (delta > 0).float().mean().item() if delta.numel() else 0.0,
        }
