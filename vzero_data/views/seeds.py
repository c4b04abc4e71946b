"""Per-view seeds derived from what identifies a view, never from processing order."""

from __future__ import annotations

import hashlib

import numpy as np

SEED_BITS = 63  # fits the store's int64 seed column and numpy's SeedSequence (non-negative)


def view_seed(sample_id: str, strategy: str, index: int) -> int:
    """Deterministic seed for the ``index``-th view of ``strategy`` on sample ``sample_id``.

    The pipeline, tests and any later regeneration agree on it, whatever the worker count or order.
    """
    digest = hashlib.sha256(f"{sample_id}\x1f{strategy}\x1f{int(index)}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << SEED_BITS) - 1)


def attempt_rng(seed: int, attempt: int = 0) -> np.random.Generator:
    """The random generator for one (re-)sampling attempt of a view with ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"view seed must be a non-negative integer, got {seed!r}")
    return np.random.default_rng([int(seed), int(attempt)])
