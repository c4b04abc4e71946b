"""Tiny fixtures written by each test in its source's own format."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from vzero_core.rows import Rejected
from vzero_data.sources import SourceOptions, build_items, get_source
from vzero_data.sources.base import default_root
from vzero_data.sources.build import SourceItem


def png_bytes(size=(40, 30), color=(200, 10, 10), fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


def write_png(path: Path, size=(40, 30), color=(200, 10, 10)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png_bytes(size, color))
    return path


def read_all(fmt: str, src, **options) -> tuple[list[SourceItem], list[Rejected]]:
    """Run an adapter and the shared validation; split results into samples and rejections."""
    opts = SourceOptions(**options)
    items = list(
        build_items(
            get_source(fmt).read(str(src), opts),
            default_root(str(src), opts, get_source(fmt)),
            max_pixels=opts.max_pixels,
        )
    )
    return [i for i in items if isinstance(i, SourceItem)], [i for i in items if isinstance(i, Rejected)]


@pytest.fixture
def images(tmp_path) -> Path:
    root = tmp_path / "imgs"
    write_png(root / "a.png", (40, 30), (200, 10, 10))
    write_png(root / "sub" / "b.png", (50, 20), (10, 200, 10))
    return root
