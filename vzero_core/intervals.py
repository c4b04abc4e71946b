"""Confidence intervals shared by evaluation, the sandbox and the evidence audit.

A proportion gets a Wilson score interval: slices are often small and proportions sit near 0 or 1,
where the normal approximation ``p +- z*sqrt(p(1-p)/n)`` gives intervals outside [0, 1] or of zero
width (at 0/n and n/n). The Wilson interval inverts the score test instead, stays inside [0, 1], and
has close to nominal coverage even for small ``n`` (Brown, Cai and DasGupta 2001, "Interval
Estimation for a Binomial Proportion"). A mean gets a percentile bootstrap interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

CONFIDENCE = 0.95


def wilson_interval(correct: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for ``correct`` successes in ``n`` trials."""
    if n <= 0:
        raise ValueError(f"need at least one trial, got n={n}")
    if not 0 <= correct <= n:
        raise ValueError(f"correct must lie in [0, n={n}], got {correct}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = correct / n
    denom = 1 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0/n and n/n the bound is exactly 0 or 1 in theory; float error would leave 3e-17.
    low = 0.0 if correct == 0 else max(0.0, center - half)
    high = 1.0 if correct == n else min(1.0, center + half)
    return low, high


def bootstrap_mean_interval(
    values: Sequence[float],
    confidence: float = CONFIDENCE,
    *,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (seeded: the same values give the
    same interval). Resampled in blocks, so memory stays at a block of ``resamples x n`` draws."""
    import numpy as np

    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        raise ValueError("need at least one value")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    block = max(1, 2_000_000 // x.size)
    means = np.concatenate(
        [
            x[rng.integers(0, x.size, (min(block, resamples - start), x.size))].mean(axis=1)
            for start in range(0, resamples, block)
        ]
    )
    tail = (1 - confidence) / 2
    return float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))
