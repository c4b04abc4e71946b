"""A tiny curated store built in the test: synthetic scenes ingested, then views cut with PIL."""

from __future__ import annotations

from pathlib import Path

import pytest

from vzero_data.image_io import decode_image, encode_image
from vzero_data.ingest import ingest
from vzero_data.store import Store, open_store
from vzero_data.synth import write_scenes

CONFIG = "cfg-test"
NEGATIVE_BOX = [0.0, 0.0, 24.0, 24.0]


def curate(
    store: Store,
    *,
    skip_negative: tuple[int, ...] = (),
    extra_negative: str | None = None,
    config: str = CONFIG,
) -> list[str]:
    """Write a positive crop (the target box) and a 'corner' negative per ingested sample."""
    samples = sorted(store.iter_samples("ingest"), key=lambda s: s.sample_id)
    with store.writer("curate-run", config) as w:
        for i, s in enumerate(samples):
            image = decode_image(store.image_bytes([s.image_sha256])[s.image_sha256])
            box = s.boxes[0]
            w.add_sample(s)
            w.add_region(
                s.sample_id,
                {
                    "rank": 0,
                    "box": box,
                    "score": 0.9,
                    "phrase": s.target,
                    "grounder": "oracle",
                    "model": "none",
                    "params": {"t": 0.3},
                    "selected": True,
                },
            )
            w.add_view(
                s.sample_id,
                {
                    "kind": "positive",
                    "strategy": "crop",
                    "image_bytes": encode_image(image.crop(box.round_out())),
                    "box": box.to_list(),
                    "seed": i,
                    "params": {"margin": 0},
                },
            )
            if i not in skip_negative:
                neg = image.crop(tuple(int(v) for v in NEGATIVE_BOX))
                w.add_view(
                    s.sample_id,
                    {
                        "kind": "negative",
                        "strategy": "corner",
                        "image_bytes": encode_image(neg),
                        "box": NEGATIVE_BOX,
                        "seed": i,
                        "overlap_iou": 0.0,
                    },
                )
            if extra_negative:
                w.add_view(
                    s.sample_id,
                    {
                        "kind": "negative",
                        "strategy": extra_negative,
                        "image_bytes": encode_image(image.resize((32, 32))),
                        "seed": i,
                    },
                )
            w.commit_sample(s.sample_id)
    return [s.sample_id for s in samples]


@pytest.fixture(scope="session")
def synth_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    write_scenes(out, 4, size=192, seed=3, progress=False)
    return out


@pytest.fixture
def ingested_store(tmp_path, synth_dir) -> Store:
    store = open_store(tmp_path / "store", create=True)
    ingest(str(synth_dir), "synthetic", store, progress=False)
    return store


@pytest.fixture
def curated_store(ingested_store) -> Store:
    curate(ingested_store, skip_negative=(1,))
    return ingested_store
