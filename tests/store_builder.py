"""Build small stores in tests through the real store writer (marker, schema batch, catalog), so
readers are tested against stores exactly as curation writes them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from PIL import Image

from vzero_data.boxes import Box
from vzero_data.image_io import probe_image
from vzero_data.sample import Sample, image_digest
from vzero_data.store import StoreWriter


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
