"""Near pHashes without comparing every pair: multi-index hashing in DuckDB.

A 64-bit hash is cut into four 16-bit chunks. Two hashes within ``max_distance`` bits agree within
``max_distance // 4`` bits on at least one chunk (pigeonhole), so it is enough to join each chunk of
one side, flipped by every mask of at most that many bits, against the same chunk of the other side
(a hash join), and keep the pairs whose whole hashes are close. The side with fewer hashes is the
one expanded by the masks. Cost grows with the number of hashes, not with their pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import duckdb
import pyarrow as pa

CHUNKS = 4
CHUNK_BITS = 64 // CHUNKS
MAX_DISTANCE_LIMIT = 4 * CHUNKS - 1  # radius 3 per chunk: 697 masks; beyond that the join explodes


def chunk_masks(radius: int) -> list[int]:
    """Every ``CHUNK_BITS``-bit mask with at most ``radius`` bits set."""
    masks = [0]
    for r in range(1, radius + 1):
        masks += [sum(1 << b for b in bits) for bits in combinations(range(CHUNK_BITS), r)]
    return masks


def near_pairs(
    queries: Sequence[int], targets: Sequence[int], max_distance: int, *, same_set: bool = False
) -> list[tuple[int, int, int]]:
    """``(query index, target index, distance)`` for every pair of hashes at most ``max_distance``
    bits apart, sorted. With ``same_set`` (``targets`` is ``queries``) each unordered pair of two
    different indices is listed once, as ``(i, j)`` with ``i < j``."""
    if not 0 <= max_distance <= MAX_DISTANCE_LIMIT:
        raise ValueError(f"max_distance must be within 0..{MAX_DISTANCE_LIMIT} bits, got {max_distance}")
    if not len(queries) or not len(targets):
        return []
    con = duckdb.connect(":memory:")
    try:
        q = pa.table({"i": pa.array(range(len(queries)), pa.int64()), "h": pa.array(queries, pa.uint64())})
        t = pa.table({"i": pa.array(range(len(targets)), pa.int64()), "h": pa.array(targets, pa.uint64())})
        masks = pa.table({"m": pa.array(chunk_masks(max_distance // CHUNKS), pa.uint64())})
        con.register("q_in", q)
        con.register("t_in", t)
        con.register("masks", masks)
        chunked = "SELECT i, h, c, (h >> ({bits} * c)) & {mask} AS k FROM {src}, range({n}) r(c)"
        fmt = {"bits": CHUNK_BITS, "mask": (1 << CHUNK_BITS) - 1, "n": CHUNKS}
        con.execute(f"CREATE TEMP TABLE qc AS {chunked.format(src='q_in', **fmt)}")
        con.execute(f"CREATE TEMP TABLE tc AS {chunked.format(src='t_in', **fmt)}")
        small, big = ("qc", "tc") if len(queries) <= len(targets) else ("tc", "qc")
        rows = con.execute(
            f"""
            SELECT DISTINCT qc.i AS qi, tc.i AS ti, bit_count(xor(qc.h, tc.h)) AS d
            FROM (SELECT s.i, s.h, s.c, xor(s.k, masks.m) AS k FROM {small} s, masks) x
            JOIN {big} y ON y.c = x.c AND y.k = x.k
            JOIN qc ON qc.i = {"x" if small == "qc" else "y"}.i AND qc.c = x.c
            JOIN tc ON tc.i = {"y" if small == "qc" else "x"}.i AND tc.c = x.c
            WHERE bit_count(xor(qc.h, tc.h)) <= ?
            """,
            [max_distance],
        ).fetchall()
    finally:
        con.close()
    pairs = sorted((int(a), int(b), int(d)) for a, b, d in rows)
    if same_set:
        pairs = [p for p in pairs if p[0] < p[1]]
    return pairs
