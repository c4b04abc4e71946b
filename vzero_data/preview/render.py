"""Render preview items: a PNG contact sheet and a self-contained HTML gallery (base64 data URIs)."""

from __future__ import annotations

import base64
import html
import os
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vzero_data.boxes import Box
from vzero_data.preview.items import PreviewItem, PreviewTile
from vzero_data.views.encoding import encode_rgb

TARGET_COLOR = (255, 0, 255)
POSITIVE_COLOR = (0, 220, 0)
NEGATIVE_COLOR = (255, 150, 0)
SHEET_BACKGROUND = (250, 250, 250)
TEXT_COLOR = (20, 20, 20)
MISSING_COLOR = (200, 200, 200)
LINE_HEIGHT = 12
CAPTION_LINES = 3
HEADER_HEIGHT = 16
PAD = 6
HTML_FULL_IMAGE_SIDE = 640
HTML_VIEW_SIDE = 512
LEGEND = "boxes: target (magenta), positive crop (green), negative windows (orange)"


def annotated_image(item: PreviewItem, max_side: int) -> Image.Image:
    """The full image scaled to fit ``max_side`` with the target and view windows drawn on it."""
    image = Image.fromarray(item.image)
    scale = min(1.0, max_side / max(image.size))
    if scale < 1.0:
        image = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS
        )
    draw = ImageDraw.Draw(image)
    width = max(1, round(max(image.size) / 256))

    def rect(box: Box, color, w: int) -> None:
        x1, y1, x2, y2 = (v * scale for v in box.to_list())
        draw.rectangle((x1, y1, max(x1, x2 - 1), max(y1, y2 - 1)), outline=color, width=w)

    for tile in item.tiles:
        if tile.box is not None and tile.kind == "negative" and tile.pixels is not None:
            rect(tile.box, NEGATIVE_COLOR, width)
    for tile in item.tiles:
        if tile.box is not None and tile.kind == "positive":
            rect(tile.box, POSITIVE_COLOR, width)
    if item.target is not None:
        rect(item.target, TARGET_COLOR, width + 1)
    return image


def _fit(pixels: np.ndarray, side: int) -> Image.Image:
    """Scale a view to fit a ``side`` square: nearest-neighbour when enlarging, so pixels stay visible."""
    image = Image.fromarray(pixels)
    scale = side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.NEAREST if scale >= 1 else Image.LANCZOS)


def _wrap(text: str, width_chars: int, lines: int) -> list[str]:
    """Word-wrap into at most ``lines`` lines; a cut is marked with ``~``."""
    out = textwrap.wrap(text, width_chars, break_long_words=True) or []
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width_chars - 1] + "~"
    return out


def contact_sheet(items: Sequence[PreviewItem], tile: int = 192) -> Image.Image:
    """One row per sample: the annotated full image, then the positive and each negative, labelled."""
    if not items:
        raise ValueError("nothing to preview: no samples")
    font = ImageFont.load_default_imagefont()
    columns = 1 + max(len(item.tiles) for item in items)
    cell_w, cell_h = tile + PAD, tile + LINE_HEIGHT * CAPTION_LINES + PAD
    row_h = HEADER_HEIGHT + cell_h
    sheet = Image.new("RGB", (PAD + columns * cell_w, HEADER_HEIGHT + len(items) * row_h), SHEET_BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    chars = max(8, tile // 6)
    draw.text((PAD, 2), LEGEND, fill=TEXT_COLOR, font=font)
    for r, item in enumerate(items):
        top = HEADER_HEIGHT + r * row_h
        for line in _wrap(f"{item.sample_id}: {item.question}", (columns * cell_w) // 6, 1):
            draw.text((PAD, top + 2), line, fill=TEXT_COLOR, font=font)
        cells: list[tuple[Image.Image | None, str, str]] = [(annotated_image(item, tile), "full image", "")]
        for t in item.tiles:
            cells.append((_fit(t.pixels, tile) if t.pixels is not None else None, t.label, t.caption))
        for c, (image, label, caption) in enumerate(cells):
            x, y = PAD + c * cell_w, top + HEADER_HEIGHT
            if image is None:
                draw.rectangle((x, y, x + tile - 1, y + tile - 1), fill=MISSING_COLOR)
            else:
                sheet.paste(image, (x + (tile - image.width) // 2, y + (tile - image.height) // 2))
            text = _wrap(label, chars, 1) + _wrap(caption, chars, CAPTION_LINES - 1)
            for i, line in enumerate(text):
                draw.text((x, y + tile + 1 + i * LINE_HEIGHT), line, fill=TEXT_COLOR, font=font)
    return sheet


def _data_uri(image: Image.Image | np.ndarray) -> str:
    pixels = np.asarray(image.convert("RGB")) if isinstance(image, Image.Image) else image
    return "data:image/png;base64," + base64.b64encode(encode_rgb(pixels, "png")).decode("ascii")


def _figure(uri: str, label: str, caption: str, css: str) -> str:
    return (
        f'<figure class="{css}"><img src="{uri}" alt="{html.escape(label)}">'
        f"<figcaption><b>{html.escape(label)}</b><br>{html.escape(caption)}</figcaption></figure>"
    )


GALLERY_CSS = """
body { font-family: sans-serif; margin: 1em; background: #fafafa; color: #222; }
section { border-bottom: 1px solid #ccc; padding: 0.5em 0; }
.row { display: flex; flex-wrap: wrap; gap: 10px; align-items: flex-start; }
figure { margin: 0; max-width: 260px; font-size: 12px; }
figure.full { max-width: 660px; }
figure.full img { max-width: 640px; max-height: 480px; }
figure.view img { height: 160px; image-rendering: pixelated; border: 1px solid #999; }
figure.rejected div { width: 160px; height: 160px; background: #ddd; }
"""


def gallery_html(items: Sequence[PreviewItem], title: str = "vzero views") -> str:
    """A single HTML file with every image inlined: open it anywhere, no other files needed."""
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{GALLERY_CSS}</style></head><body><h1>{html.escape(title)}</h1><p>{html.escape(LEGEND)}</p>",
    ]
    for item in items:
        parts.append(f"<section><h2>{html.escape(item.sample_id)}</h2><p>{html.escape(item.question)}</p>")
        parts.append('<div class="row">')
        parts.append(
            _figure(_data_uri(annotated_image(item, HTML_FULL_IMAGE_SIDE)), "full image", "", "full")
        )
        for t in item.tiles:
            parts.append(_tile_html(t))
        parts.append("</div></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _tile_html(tile: PreviewTile) -> str:
    if tile.pixels is None:
        return (
            f'<figure class="rejected"><div></div><figcaption><b>{html.escape(tile.label)}</b><br>'
            f"{html.escape(tile.caption)}</figcaption></figure>"
        )
    pixels = tile.pixels
    if max(pixels.shape[:2]) > HTML_VIEW_SIDE:
        pixels = np.asarray(_fit(pixels, HTML_VIEW_SIDE))
    return _figure(_data_uri(pixels), tile.label, tile.caption, "view")


def write_preview(
    items: Iterable[PreviewItem],
    out_dir: str | os.PathLike[str],
    *,
    tile: int = 192,
    title: str = "vzero views",
) -> tuple[Path, Path]:
    """Write ``contact_sheet.png`` and ``gallery.html`` under ``out_dir``; return their paths."""
    items = list(items)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sheet_path, html_path = out / "contact_sheet.png", out / "gallery.html"
    contact_sheet(items, tile).save(sheet_path, format="PNG")
    html_path.write_text(gallery_html(items, title), encoding="utf-8")
    return sheet_path, html_path
