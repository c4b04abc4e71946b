"""Deterministic work partitioning: ``--shard i/N`` keeps the samples whose id hashes to ``i`` mod ``N``.

The assignment depends only on the sample id (never on order, machine or Python's salted ``hash``),
so N launches with ``--shard 0/N`` ... ``--shard N-1/N`` (a Slurm array, a job queue) cover every
sample exactly once and can all write to one store.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_SHARD_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class ShardSpecError(ValueError):
    """A ``--shard`` value that is not ``i/N`` with ``0 <= i < N``."""


@dataclass(frozen=True)
class ShardSpec:
    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 0 <= self.index < self.count:
            raise ShardSpecError(f"shard {self.index}/{self.count}: expected i/N with N >= 1 and 0 <= i < N")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, sample_id: str) -> bool:
        """Whether this shard processes ``sample_id``."""
        return shard_of(sample_id, self.count) == self.index


ALL = ShardSpec(0, 1)


def parse_shard(text: str) -> ShardSpec:
    """``"1/4"`` -> ``ShardSpec(1, 4)``; anything else raises :class:`ShardSpecError`."""
    match = _SHARD_RE.match(text)
    if not match:
        raise ShardSpecError(f"shard {text!r}: expected i/N, e.g. 0/4")
    return ShardSpec(int(match.group(1)), int(match.group(2)))


def shard_of(sample_id: str, count: int) -> int:
    """The shard in ``0..count-1`` that owns ``sample_id``: first 8 bytes of its SHA-256, mod ``count``."""
    digest = hashlib.sha256(sample_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count
