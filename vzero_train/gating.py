"""The contrastive evidence gate (docs/method.md, "One training step"): per-sequence weights, no gradient.

The weights themselves (evidence scores, group standardization, ``clip(1 + alpha * a, w_min, w_max)``)
are pure functions in :mod:`vzero_core.evidence_gate`, shared with the evidence audit; this module
adds what the trainer logs about them each step (:func:`gate_metrics`).
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
