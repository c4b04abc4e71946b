"""vzero's synthetic scenes: a folder written by ``vzero-data synth`` (``manifest.jsonl`` + ``images/``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vzero_core.rows import Rejected, SourceError, iter_jsonl
from vzero_data.sources.base import RawItem, SourceOptions, require_path
from vzero_data.sources.generic import generic_items
from vzero_data.synth import MANIFEST_NAME, SOURCE_NAME


class SyntheticSource:
    name = "synthetic"
    description = "synthetic scenes folder from `vzero-data synth` (manifest.jsonl + images/)"

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        path = require_path(src)
        manifest = path / MANIFEST_NAME if path.is_dir() else path
        if not manifest.is_file():
            raise SourceError(f"{src}: no {MANIFEST_NAME} (expected a folder written by `vzero-data synth`)")
        return generic_items(iter_jsonl(Path(manifest)), options, SOURCE_NAME)
