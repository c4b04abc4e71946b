"""Views per second for each strategy on 1024x1024 and 4096x4096 synthetic scenes.

Measures view generation (pixels in memory, checks included) and, separately, generation plus PNG
encoding (what a store row costs). Single process, one thread for OpenCV, so figures are per core.

    python benchmarks/views_throughput.py [--seconds 0.5] [--sizes 1024 4096]
"""

from __future__ import annotations

import argparse
import contextlib
import time

import cv2
import numpy as np

from vzero_data.synth import make_scene
from vzero_data.views import (
    NEGATIVE_STRATEGIES,
    CropPolicy,
    InMemoryImagePool,
    ViewRejected,
    negative_view,
    positive_view,
    view_seed,
)

N_IMAGES = 3
POLICY = CropPolicy(margin_ratio=1.0)


def rate(make, seconds: float, encode: bool) -> tuple[float, int]:
    """Calls of ``make(i)`` per second over about ``seconds``; also counts rejections."""
    with contextlib.suppress(ViewRejected):
        make(0)  # warm-up: lazy imports and caches are not part of the rate
    count = rejected = 0
    start = time.perf_counter()
    while True:
        try:
            view = make(count)
            if encode:
                view.to_png_bytes()
        except ViewRejected:
            rejected += 1
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= 5:
            return count / elapsed, rejected


def bench_size(size: int, seconds: float) -> dict[str, tuple[float, float, int, str]]:
    scenes = [make_scene(0, i, size) for i in range(N_IMAGES)]
    images = [np.asarray(s.image) for s in scenes]
    targets = [s.target.box for s in scenes]
    pool = InMemoryImagePool({f"img{i}": im for i, im in enumerate(images)})
    positives = [positive_view(im, t, POLICY) for im, t in zip(images, targets, strict=True)]

    def positive(i: int):
        k = i % N_IMAGES
        return positive_view(images[k], targets[k], POLICY, i)

    results = {}
    crop = f"{positives[0].width}x{positives[0].height}"
    results["crop (positive)"] = (
        rate(positive, seconds, False)[0],
        rate(positive, seconds, True)[0],
        0,
        crop,
    )
    for name in NEGATIVE_STRATEGIES:

        def negative(i: int, name: str = name):
            k = i % N_IMAGES
            return negative_view(
                name, images[k], targets[k], None, view_seed(f"img{k}", name, i),
                positive=positives[k], pool=pool, image_sha256=f"img{k}",
            )  # fmt: skip

        plain, rejected = rate(negative, seconds, False)
        results[name] = (plain, rate(negative, seconds, True)[0], rejected, crop)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5, help="time per measurement (default 0.5)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 4096])
    args = parser.parse_args()
    cv2.setNumThreads(1)
    table = {size: bench_size(size, args.seconds) for size in args.sizes}
    names = list(next(iter(table.values())))
    header = f"{'strategy':<24}" + "".join(f"{f'{s}px views/s':>18}{'+png':>10}" for s in args.sizes)
    print(f"views throughput, one core, crop policy margin_ratio={POLICY.margin_ratio} (synthetic scenes)")
    print(header)
    for name in names:
        row = f"{name:<24}"
        for size in args.sizes:
            plain, encoded, rejected, _ = table[size][name]
            row += f"{plain:>18,.0f}{encoded:>10,.0f}"
        print(row)
    for size in args.sizes:
        crop = table[size]["crop (positive)"][3]
        print(f"{size}px: positive crops are about {crop} pixels (targets are 1.5-3% of the image side)")


if __name__ == "__main__":
    main()
