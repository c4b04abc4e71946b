"""Build small stores in tests through the real store writer (marker, schema batch, catalog), so
readers are tested against stores exactly as curation writes them: ``add_sample`` for hand-made
samples, ``curate`` for views over samples already ingested."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from PIL import Image

from vzero_core.boxes import Box
from vzero_core.image_io import decode_image, encode_image, probe_image
from vzero_core.sample import Sample, image_digest
from vzero_data.store import Store, StoreWriter


def png(color: Any = "red", size: tuple[int, int] = (12, 8)) -> bytes:
    """A plain-colour PNG of ``size`` (width, height)."""
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def add_sample(
    writer: StoreWriter,
    sample_id: str,
    image: bytes | None,
    *,
    image_sha256: str | None = None,
    question: str = "What is shown?",
    boxes: Sequence[Sequence[float]] = (),
    **fields: Any,
) -> Sample:
    """Store ``image`` (encoded bytes) and a sample on it; the caller adds regions/views and commits.

    ``image=None`` with an ``image_sha256`` makes a sample whose image is not in the store.
    """
    if image is None:
        assert image_sha256, "a sample without stored image needs image_sha256"
        sha, width, height = image_sha256, 1, 1
    else:
        info = probe_image(image)
        sha, width, height = image_digest(image), info.width, info.height
        writer.add_image(sha, image, width, height, info.format)
    sample = Sample(
        sample_id=sample_id,
        image=f"sha256:{sha}",
        image_sha256=sha,
        width=width,
        height=height,
        question=question,
        boxes=tuple(Box.from_xyxy(b) for b in boxes),
        **fields,
    )
    writer.add_sample(sample)
    return sample


CONFIG = "cfg-test"
NEGATIVE_BOX = [0.0, 0.0, 24.0, 24.0]


def curate(
    store: Store,
    *,
    skip_negative: tuple[int, ...] = (),
    extra_negative: str | None = None,
    config: str = CONFIG,
    positive_margin: float = 0.0,
) -> list[str]:
    """Write a positive crop (the target box, widened by ``positive_margin`` of its size) and a
    'corner' negative per ingested sample."""
    samples = sorted(store.iter_samples("ingest"), key=lambda s: s.sample_id)
    with store.writer("curate-run", config) as w:
        for i, s in enumerate(samples):
            image = decode_image(store.image_bytes([s.image_sha256])[s.image_sha256])
            box = s.boxes[0]
            crop = box.expand(ratio=positive_margin).clip(*image.size) if positive_margin else box
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
                    "image_bytes": encode_image(image.crop(crop.round_out())),
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


def synthetic_store(root: Any, n: int, *, size: int = 192, seed: int = 3) -> Store:
    """``root/store``: ``n`` synthetic scenes (written to ``root/synth``) ingested, each with a
    positive crop (the target box widened by half its size) and a 'corner' negative."""
    from pathlib import Path

    from vzero_data.ingest import ingest
    from vzero_data.store import open_store
    from vzero_data.synth import write_scenes

    root = Path(root)
    write_scenes(root / "synth", n, size=size, seed=seed, progress=False)
    store = open_store(root / "store", create=True)
    ingest(str(root / "synth"), "synthetic", store, progress=False)
    curate(store, positive_margin=0.5)
    return store
