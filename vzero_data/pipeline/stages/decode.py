"""Decoding a source image once, where its pixels are needed; corrupt data is a sample's reject."""

from __future__ import annotations

from typing import Any

from vzero_core.sample import Sample
from vzero_data.pipeline.results import SampleResult, rejected


class UnreadableImage(ValueError):
    """A source image whose header is sound but whose pixel data does not decode."""


def decode_source(data: bytes, where: str, max_pixels: int) -> Any:
    """The RGB pixels of a source image, decoded once; corrupt data raises :class:`UnreadableImage`."""
    from vzero_data.views.encoding import decode_rgb

    try:
        return decode_rgb(data, where, max_pixels=max_pixels)
    except ValueError as exc:
        raise UnreadableImage(str(exc)) from exc


def unreadable(sample: Sample, exc: UnreadableImage) -> SampleResult:
    """The reject of a sample whose image does not decode: an ingest problem, as a missing file is."""
    return rejected(sample, "ingest", "image_unreadable", str(exc))
