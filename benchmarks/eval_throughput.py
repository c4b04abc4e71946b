"""Evaluation throughput and memory: answer extraction, HR-Bench TSV streaming, tiny-model inference.

Prints three figures:
- responses scored per second by the rule-based extractor (a mix of real-looking responses);
- peak RSS growth while streaming an HR-Bench-style TSV of large base64 images, against the file
  size (streaming should hold about one batch of images, not the file);
- questions per second of ``evaluate_model`` on a tiny random Qwen2.5-VL at several batch sizes.

usage: HF_HUB_OFFLINE=1 python benchmarks/eval_throughput.py [--rows 40] [--image-side 1536] [--questions 32]
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
from PIL import Image

from vzero_data.benchmarks import open_benchmark
from vzero_train.evaluate.answers import extract_choice
from vzero_train.evaluate.runner import _batches

RESPONSES = [
    "B",
    "(C)",
    "The answer is D.",
    "A. blue",
    "It is dark red.",
    "<think>It could be A or B.</think>The answer is B.",
    "I cannot tell from the image.",
    "The small star near the top left is green in color, so the answer is (D).",
]
OPTIONS = ["blue", "red", "dark red", "green"]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_extraction(repeats: int = 20000) -> None:
    start = time.perf_counter()
    for i in range(repeats):
        extract_choice(RESPONSES[i % len(RESPONSES)], OPTIONS)
    elapsed = time.perf_counter() - start
    print(f"answer extraction: {repeats / elapsed:,.0f} responses/s")


def bench_tsv_streaming(tmp: Path, rows: int, side: int) -> None:
    noise = np.random.default_rng(0).integers(0, 256, size=(side, side, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG")
    b64 = base64.b64encode(buf.getvalue()).decode()
    tsv = tmp / "hr_bench_big.tsv"
    with open(tsv, "w") as fh:
        fh.write("index\tquestion\tanswer\tcategory\tcycle_category\tA\tB\tC\tD\timage\n")
        for i in range(rows):
            fh.write(f"{i}\tWhat colour?\tA\tFSP\t0\tred\tblue\tgreen\twhite\t{b64}\n")
    del b64, buf
    size_mib = tsv.stat().st_size / 2**20
    # ru_maxrss only grows: measure the small batch first, then the large one.
    for batch_size in (1, 8):
        before = peak_rss_mib()
        start = time.perf_counter()
        skipped: list = []
        n = sum(len(batch) for batch in _batches(open_benchmark(tsv).items(), batch_size, skipped))
        elapsed = time.perf_counter() - start
        print(
            f"HR-Bench TSV streaming: {n} rows ({side}x{side} PNG each), file {size_mib:.0f} MiB: "
            f"batch {batch_size}: peak RSS +{peak_rss_mib() - before:.0f} MiB, {n / elapsed:.1f} images decoded/s"
        )


def bench_inference(tmp: Path, questions: int) -> None:
    from vzero_core.tiny_models import save_tiny_vlm
    from vzero_core.vlm.models import load_vlm
    from vzero_data.synth import write_scenes
    from vzero_train.evaluate.runner import evaluate_model

    vlm = load_vlm(save_tiny_vlm("qwen2_5_vl", tmp / "tiny", image_size=224), device="cpu")
    write_scenes(tmp / "synth", questions, size=512, seed=0, progress=False)
    items = list(open_benchmark(tmp / "synth").items())
    evaluate_model(vlm, items[:2], batch_size=2, max_new_tokens=4, progress=False)  # warm-up
    for batch_size in (1, 4, 8):
        start = time.perf_counter()
        evaluate_model(vlm, items, batch_size=batch_size, max_new_tokens=16, progress=False)
        elapsed = time.perf_counter() - start
        print(
            f"tiny Qwen2.5-VL eval (CPU, 512px scenes, 16 new tokens): batch {batch_size}: "
            f"{questions / elapsed:.1f} questions/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=40)
    parser.add_argument("--image-side", type=int, default=1536)
    parser.add_argument("--questions", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_extraction()
        bench_tsv_streaming(Path(tmp), args.rows, args.image_side)
        bench_inference(Path(tmp), args.questions)


if __name__ == "__main__":
    main()
