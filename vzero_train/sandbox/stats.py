"""Statistics for comparing arms on the same test items and seeds.

Per arm: accuracy over every (seed, item) answer with a 95% Wilson interval. Between two arms:
the paired difference in accuracy over the same (seed, item) pairs, with a paired bootstrap 95%
interval and an exact two-sided sign test (McNemar, :func:`scipy.stats.binomtest`) on the discordant
pairs. The bootstrap is crossed: seeds (training runs) and items (test scenes) are resampled
independently and the difference averaged over the resampled grid, so the interval carries both the
run-to-run noise of training and the sampling noise of the test set; with one seed it is the plain
paired bootstrap over items.
"""

from __future__ import annotations

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
    from scipy.stats import binomtest

    n = wins + losses
    return 1.0 if n == 0 else float(binomtest(wins, n, 0.5).pvalue)


def paired_difference(a: Outcomes, b: Outcomes, *, resamples: int = 2000, seed: int = 0) -> dict[str, float]:
    """Accuracy of ``a`` minus ``b`` over their shared (seed, item) pairs, with a crossed bootstrap CI
    (see the module docstring) and the sign test's p-value."""
    keys = sorted(set(a) & set(b))
    if not keys:
        raise ValueError("the two arms share no (seed, item) pairs")
    seeds = sorted({s for s, _ in keys})
    items = sorted({i for _, i in keys})
    s_index = {s: k for k, s in enumerate(seeds)}
    i_index = {i: k for k, i in enumerate(items)}
    diff = np.zeros((len(seeds), len(items)))
    present = np.zeros((len(seeds), len(items)))
    for s, i in keys:
        diff[s_index[s], i_index[i]] = float(a[(s, i)]) - float(b[(s, i)])
        present[s_index[s], i_index[i]] = 1.0
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    for r in range(resamples):
        rows = rng.integers(0, len(seeds), len(seeds)) if len(seeds) > 1 else np.zeros(1, dtype=int)
        cols = rng.integers(0, len(items), len(items))
        weight = present[np.ix_(rows, cols)]
        means[r] = (diff[np.ix_(rows, cols)] * weight).sum() / max(weight.sum(), 1.0)
    x = diff[present > 0]
    wins, losses = int((x > 0).sum()), int((x < 0).sum())
    return {
        "difference": float(x.mean()),
        "ci_low": float(np.quantile(means, 0.025)),
        "ci_high": float(np.quantile(means, 0.975)),
        "n_pairs": len(keys),
        "n_seeds": len(seeds),
        "wins": wins,
        "losses": losses,
        "p_value": exact_sign_test(wins, losses),
    }
