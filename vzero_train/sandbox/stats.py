"""Statistics for comparing arms on the same test items and seeds.

Per arm: accuracy over every (seed, item) answer with a 95% Wilson interval. Between two arms:
the paired difference in accuracy over the same (seed, item) pairs, with a paired bootstrap 95%
interval (items resampled within each seed, the same resample for both arms) and an exact two-sided
sign test (McNemar) on the discordant pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from vzero_train.evaluate.scoring import wilson_interval

Outcomes = Mapping[tuple[int, str], bool]
"""(seed, item id) -> answered correctly."""


def accuracy(outcomes: Outcomes) -> dict[str, float]:
    n = len(outcomes)
    correct = sum(bool(v) for v in outcomes.values())
    low, high = wilson_interval(correct, n) if n else (float("nan"), float("nan"))
    return {
        "accuracy": correct / n if n else float("nan"),
        "ci_low": low,
        "ci_high": high,
        "n": n,
        "correct": correct,
    }


def exact_sign_test(wins: int, losses: int) -> float:
    """Two-sided exact binomial p-value of ``wins`` vs ``losses`` discordant pairs under p = 1/2."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_difference(a: Outcomes, b: Outcomes, *, resamples: int = 2000, seed: int = 0) -> dict[str, float]:
    """Accuracy of ``a`` minus ``b`` over their shared (seed, item) pairs, with a bootstrap CI."""
    keys = sorted(set(a) & set(b))
    if not keys:
        raise ValueError("the two arms share no (seed, item) pairs")
    x = np.array([float(a[k]) - float(b[k]) for k in keys])
    groups: dict[int, list[int]] = {}
    for i, (s, _) in enumerate(keys):
        groups.setdefault(s, []).append(i)
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for r in range(resamples):
        picked = np.concatenate([rng.choice(idx, size=len(idx), replace=True) for idx in groups.values()])
        means[r] = x[picked].mean()
    wins, losses = int((x > 0).sum()), int((x < 0).sum())
    return {
        "difference": float(x.mean()),
        "ci_low": float(np.quantile(means, 0.025)),
        "ci_high": float(np.quantile(means, 0.975)),
        "n_pairs": len(keys),
        "wins": wins,
        "losses": losses,
        "p_value": exact_sign_test(wins, losses),
    }
