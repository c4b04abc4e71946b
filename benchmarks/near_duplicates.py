"""Near-duplicate and contamination search: what fingerprints cost and how search scales.

  fingerprint  per image: decode, the store's fingerprint (pHash + 500 ORB features on a 1024 px
               copy), the benchmark side's (2000 features on a 2048 px copy); each against decode.
               Pictures: synthetic scenes (1024 px PNG) and procedural photos (2246x1582 JPEG).
  phash index  training hashes against benchmark hashes through the multi-index join, at two sizes
               (N against N/10, and 10N against N), with near copies planted; seconds, cost per
               1k training images (flat = the index works), and the planted copies found.
  regions      region proposals (every query descriptor against every benchmark descriptor, then
               placements) per 1k training pictures, at two benchmark sizes: this stage grows with
               the benchmark, which is why `--no-regions` exists for very large ones.

usage: python benchmarks/near_duplicates.py [--images 12] [--train 10000] [--region-queries 20]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.near_duplicates makes the pictures


def timed(fn, *args, repeat: int = 1, **kw):
    start = time.perf_counter()
    for _ in range(repeat):
        out = fn(*args, **kw)
    return (time.perf_counter() - start) / repeat, out


def fingerprint_cost(n: int) -> None:
    from tests.near_duplicates import REGION_SOURCE_SIZE, encoded, photo, scene
    from vzero_data.fingerprints.compute import BENCHMARK_FEATURES, BENCHMARK_MAX_SIDE, fingerprint
    from vzero_data.views.encoding import decode_rgb

    sets = {
        "scene 1024 px PNG": [encoded(scene(3, i, 1024), "PNG") for i in range(n)],
        "photo 2246x1582 JPEG": [encoded(photo(i, REGION_SOURCE_SIZE)) for i in range(n)],
    }
    fingerprint(decode_rgb(sets["scene 1024 px PNG"][0]))  # imports and first-call set-up
    print("fingerprint cost per image (ms; ratio to decode)")
    for name, blobs in sets.items():
        decode = store = bench = 0.0
        for data in blobs:
            t, rgb = timed(decode_rgb, data)
            decode += t
            store += timed(fingerprint, rgb)[0]
            bench += timed(fingerprint, rgb, features=BENCHMARK_FEATURES, max_side=BENCHMARK_MAX_SIDE)[0]
        d, s, b = (1000 * v / len(blobs) for v in (decode, store, bench))
        print(
            f"  {name:22s} decode {d:6.1f}  store fingerprint {s:6.1f} ({s / d:.2f}x)  benchmark fingerprint {b:6.1f} ({b / d:.2f}x)"
        )


def phash_scaling(train: int) -> None:
    from vzero_data.fingerprints.phash_index import near_pairs

    print("pHash index (max distance 10 bits)")
    rows = []
    for n_train in (train, 10 * train):
        n_bench = n_train // 10
        rng = random.Random(n_train)
        bench = [rng.getrandbits(64) for _ in range(n_bench)]
        queries = [rng.getrandbits(64) for _ in range(n_train)]
        planted = {}
        for qi in rng.sample(range(n_train), n_train // 100):  # 1% are copies, 0-8 bits from one
            bi = rng.randrange(n_bench)
            h = bench[bi]
            for bit in rng.sample(range(64), rng.randint(0, 8)):
                h ^= 1 << bit
            queries[qi] = h
            planted[qi] = bi
        seconds, pairs = timed(near_pairs, queries, bench, 10)
        found = {(q, t) for q, t, _ in pairs}
        hit = sum((q, b) in found for q, b in planted.items())
        per_1k = 1000 * seconds / n_train
        rows.append(per_1k)
        print(
            f"  {n_train:7d} training x {n_bench:6d} benchmark: {seconds:6.2f} s, {per_1k * 1000:6.1f} ms per 1k "
            f"training images; planted copies found {hit}/{len(planted)}; other pairs {len(pairs) - hit}"
        )
    print(f"  cost per 1k training images, 10x larger / smaller: {rows[1] / rows[0]:.2f}x (flat = 1.00x)")


def region_scaling(queries: int) -> None:
    from vzero_data.fingerprints.rows import Fingerprint
    from vzero_data.fingerprints.search import Picture, region_matches

    rng = np.random.default_rng(0)

    def picture(n_desc: int, side: int) -> Picture:
        points = rng.uniform(0, side, size=(n_desc, 2)).astype(np.float32)
        descriptors = rng.integers(0, 256, size=(n_desc, 32), dtype=np.uint8)
        gray = np.zeros((8, 8), np.uint8)
        return Picture(None, Fingerprint(0, side, side, points, descriptors), lambda: gray)

    qs = [picture(500, 1024) for _ in range(queries)]
    print("region proposals (500 descriptors per training picture, 2000 per benchmark image)")
    rows = []
    for n_bench in (25, 100):
        targets = [picture(2000, 2048) for _ in range(n_bench)]
        seconds, _ = timed(region_matches, qs, targets, {})
        per_1k = 1000 * seconds / len(qs)
        rows.append(per_1k)
        print(
            f"  {len(qs)} training pictures x {n_bench:4d} benchmark images: {seconds:6.2f} s, {per_1k:7.1f} s per 1k training pictures"
        )
    print(f"  per 1k training pictures, 4x the benchmark: {rows[1] / rows[0]:.2f}x (linear in the benchmark)")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--train", type=int, default=10_000)
    parser.add_argument("--region-queries", type=int, default=20)
    args = parser.parse_args()
    fingerprint_cost(args.images)
    phash_scaling(args.train)
    region_scaling(args.region_queries)
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
