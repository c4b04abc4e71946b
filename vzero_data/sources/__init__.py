"""Source adapters: read a data set's own layout into raw items, then :mod:`.build` makes Samples.

Add a source by writing a module with a class that has ``name``, ``description`` and
``read(src, options) -> Iterator[RawItem | Rejected]``, and registering it in ``SOURCES`` below.
"""

from __future__ import annotations

from vzero_core.names import unknown_name
from vzero_core.rows import Rejected, SourceError
from vzero_data.sources.base import RawItem, Source, SourceOptions
from vzero_data.sources.build import SourceItem, build_items
from vzero_data.sources.coco import CocoSource
from vzero_data.sources.csv_rows import CsvSource
from vzero_data.sources.hf import HfSource
from vzero_data.sources.jsonl import JsonlSource
from vzero_data.sources.synthetic import SyntheticSource
from vzero_data.sources.treebench import TreeBenchSource
from vzero_data.sources.vision_opd import VisionOpdSource
from vzero_data.sources.visual_cot import VisualCotSource
from vzero_data.sources.vstar import VStarSource
from vzero_data.sources.zwz import ZwzSource

SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        JsonlSource(),
        CsvSource(),
        HfSource(),
        VStarSource(),
        VisualCotSource(),
        TreeBenchSource(),
        CocoSource(),
        SyntheticSource(),
        VisionOpdSource(),
        ZwzSource(),
    )
}


def get_source(name: str) -> Source:
    """The adapter registered as ``name``; an unknown name raises an error listing the known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        raise SourceError(unknown_name("source format", name, SOURCES)) from None


__all__ = [
    "SOURCES",
    "RawItem",
    "Rejected",
    "Source",
    "SourceError",
    "SourceItem",
    "SourceOptions",
    "build_items",
    "get_source",
]
