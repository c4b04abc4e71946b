"""Store throughput on the synthetic set: write and read rows/s and MB/s, and bytes per sample.

Scenes and their views (a positive crop of the target box and a 2x-downsampled distractor window)
are made in memory first, so the timings cover the store alone:

  write   StoreWriter: images (content-addressed) + samples + views, zstd Parquet batches
  ingest  `ingest --format synthetic` from PNG files (hashing and decode-validating every image)
  read    iter_raw_records (encoded bytes, what exports use) and iter_training_records (decoded RGB)

usage: python benchmarks/store_throughput.py [--n 64] [--size 1024] [--shard-mb 64]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from vzero_core.image_io import encode_image
from vzero_core.sample import Sample, image_digest
from vzero_data.ingest import ingest
from vzero_data.sources import SourceOptions
from vzero_data.store import iter_raw_records, open_store
from vzero_data.synth import make_scene, write_scenes


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*.parquet"))


def prepare(n: int, size: int) -> list[tuple[Sample, bytes, list[dict]]]:
    items = []
    for i in range(n):
        scene = make_scene(0, i, size)
        data = encode_image(scene.image)
        sha = image_digest(data)
        box = scene.target.box
        sample = Sample.create(
            image=f"synth-{i}.png",
            image_sha256=sha,
            width=size,
            height=size,
            question=scene.question,
            answer=scene.answer,
            options=scene.options,
            target=scene.target_phrase,
            boxes=(box,),
            source="synthetic",
        )
        x1, y1, x2, y2 = box.round_out()
        w, h = x2 - x1, y2 - y1
        small = scene.image.resize((size // 2, size // 2))
        views = [
            {
                "kind": "positive",
                "strategy": "crop",
                "image_bytes": encode_image(scene.image.crop((x1, y1, x2, y2))),
                "box": box.to_list(),
                "seed": i,
            },
            {
                "kind": "negative",
                "strategy": "downsampled_distractor",
                "image_bytes": encode_image(small.crop((0, 0, w, h))),
                "box": [0, 0, 2 * w, 2 * h],
                "seed": i,
            },
        ]
        items.append((sample, data, views))
    return items


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--shard-mb", type=int, default=64)
    args = parser.parse_args()

    items = prepare(args.n, args.size)
    payload = sum(len(d) + sum(len(v["image_bytes"]) for v in views) for _, d, views in items)
    rows = sum(2 + len(views) for *_, views in items)  # image + sample + views
    print(
        f"synthetic set: {args.n} scenes {args.size}x{args.size}, {payload / 1e6:.1f} MB of encoded images, {rows} rows"
    )

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(Path(tmp) / "store", create=True)
        t0 = time.perf_counter()
        with store.writer("bench", "bench-cfg", shard_max_bytes=args.shard_mb << 20) as w:
            for sample, data, views in items:
                w.add_image(sample.image_sha256, data, sample.width, sample.height, "png")
                w.add_sample(sample)
                for view in views:
                    w.add_view(sample.sample_id, view)
                w.commit_sample(sample.sample_id)
        dt = time.perf_counter() - t0
        on_disk = dir_bytes(store.root / "shards")
        print(
            f"write:  {rows / dt:,.0f} rows/s, {args.n / dt:,.1f} samples/s, {payload / dt / 1e6:,.1f} MB/s (payload), {len(w.batches_written)} batches"
        )
        print(
            f"size:   {on_disk / args.n / 1e3:,.1f} kB per sample on disk (image + positive + negative + rows), {on_disk / 1e6:.1f} MB total"
        )

        t0 = time.perf_counter()
        raw_bytes = n_raw = 0
        for raw in iter_raw_records(store, ["downsampled_distractor"]):
            n_raw += 1
            raw_bytes += (
                len(raw.image_bytes)
                + len(raw.positive_bytes)
                + sum(len(b) for b in raw.negative_bytes.values())
            )
        dt = time.perf_counter() - t0
        print(f"read raw:     {n_raw / dt:,.1f} records/s, {raw_bytes / dt / 1e6:,.1f} MB/s (encoded)")

        t0 = time.perf_counter()
        n_dec = pixels = 0
        for rec in store.iter_training_records(["downsampled_distractor"]):
            n_dec += 1
            pixels += rec.image.width * rec.image.height
        dt = time.perf_counter() - t0
        print(
            f"read decoded: {n_dec / dt:,.1f} records/s, {raw_bytes / dt / 1e6:,.1f} MB/s (encoded), {pixels * 3 / dt / 1e6:,.0f} MB/s RGB"
        )
        assert n_raw == n_dec == args.n

        synth = Path(tmp) / "synth"
        write_scenes(synth, args.n, size=args.size, seed=0, progress=False)
        t0 = time.perf_counter()
        summary = ingest(
            str(synth), "synthetic", Path(tmp) / "ingest-store", options=SourceOptions(), progress=False
        )
        dt = time.perf_counter() - t0
        src_bytes = sum(p.stat().st_size for p in (synth / "images").iterdir())
        print(
            f"ingest: {summary.ingested / dt:,.1f} samples/s, {src_bytes / dt / 1e6:,.1f} MB/s of PNG (hash + decode check + write)"
        )


if __name__ == "__main__":
    main()
