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

from vzero_core.boxes import Box
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
LEGEND = (
    "boxes: target (magenta), positive crop (green), negative windows (orange, numbered as the "
    "negative views they come from)"
)
# Views made from the positive crop itself: for a question about the target's colour, they still
# show that colour, so they are weak negatives for attribute questions.
KEEP_TARGET_COLOUR = ("degraded", "shuffled", "downsampled_view")
COLOUR_NOTE = (
    "note: degraded, shuffled and downsampled_view are made from the positive crop, so they keep the "
    "target's colour; for attribute (colour) questions they still show the answer"
)
MIN_TARGET_SIDE = 16  # drawn target box, in thumbnail pixels: a 0.1% target stays visible
LABEL_FULL_NAMES_FROM = 400  # image side from which windows carry the strategy's name, not its number


def negative_numbers(item: PreviewItem) -> dict[int, int]:
    """Tile index -> the number its window carries on the full image (made negatives with a box)."""
    out: dict[int, int] = {}
    for i, tile in enumerate(item.tiles):
        if tile.kind == "negative" and tile.box is not None and tile.pixels is not None:
            out[i] = len(out) + 1
    return out


def tile_label(item: PreviewItem, index: int) -> str:
    """The tile's label, prefixed with its window's number when the window is drawn."""
    number = negative_numbers(item).get(index)
    label = item.tiles[index].label
    return f"{number}: {label}" if number is not None else label


def colour_note(item: PreviewItem) -> str | None:
    """:data:`COLOUR_NOTE` for a colour question whose views include a colour-keeping strategy."""
    question = item.question.lower()
    if "colour" not in question and "color" not in question:
        return None
    if any(t.label in KEEP_TARGET_COLOUR and t.pixels is not None for t in item.tiles):
        return COLOUR_NOTE
    return None


def annotated_image(item: PreviewItem, max_side: int) -> Image.Image:
    """The full image scaled to fit ``max_side`` with the target and view windows drawn on it."""
    image = Image.fromarray(item.image)
    scale = min(1.0, max_side / max(image.size))
    if scale < 1.0:
        image = image.resize(
            (max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS
        )
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default_imagefont()
    width = max(1, round(max(image.size) / 256))

    def rect(box: Box, color, w: int, min_side: float = 0.0) -> tuple[float, float]:
        x1, y1, x2, y2 = (v * scale for v in box.to_list())
        grow_x, grow_y = max(0.0, min_side - (x2 - x1)) / 2, max(0.0, min_side - (y2 - y1)) / 2
        x1, y1, x2, y2 = x1 - grow_x, y1 - grow_y, x2 + grow_x, y2 + grow_y
        draw.rectangle((x1, y1, max(x1, x2 - 1), max(y1, y2 - 1)), outline=color, width=w)
        return x1, y1

    full_names = max(image.size) >= LABEL_FULL_NAMES_FROM
    for index, number in negative_numbers(item).items():
        tile = item.tiles[index]
        x, y = rect(tile.box, NEGATIVE_COLOR, width)
        text = f"{number} {tile.label}" if full_names else str(number)
        _, _, text_w, text_h = draw.textbbox((0, 0), text, font=font)
        at = (x, y - text_h - 2) if y >= text_h + 2 else (x + width, y + width)  # above the window
        left, top, right, bottom = draw.textbbox(at, text, font=font)
        draw.rectangle((left - 1, top - 1, right + 1, bottom + 1), fill=NEGATIVE_COLOR)
        draw.text(at, text, fill=TEXT_COLOR, font=font)
    for tile in item.tiles:
        if tile.box is not None and tile.kind == "positive":
            rect(tile.box, POSITIVE_COLOR, width)
    if item.target is not None:
        # Thick and never smaller than MIN_TARGET_SIDE, with a white halo: visible in a thumbnail.
        target_width = max(2, width + 1)
        halo = Box(*item.target.to_list()).expand(pixels=target_width / scale)
        rect(halo, (255, 255, 255), target_width, MIN_TARGET_SIDE + 2 * target_width)
        rect(item.target, TARGET_COLOR, target_width, MIN_TARGET_SIDE)
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
        for i, t in enumerate(item.tiles):
            label = tile_label(item, i)
            cells.append((_fit(t.pixels, tile) if t.pixels is not None else None, label, t.caption))
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
p.note { color: #8a4b00; }
"""


def gallery_html(items: Sequence[PreviewItem], title: str = "vzero views") -> str:
    """A single HTML file with every image inlined: open it anywhere, no other files needed."""
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{GALLERY_CSS}</style></head><body><h1>{html.escape(title)}</h1><p>{html.escape(LEGEND)}</p>"
        f"<p class='note'>{html.escape(COLOUR_NOTE)}</p>",
    ]
    for item in items:
        parts.append(f"<section><h2>{html.escape(item.sample_id)}</h2><p>{html.escape(item.question)}</p>")
        note = colour_note(item)
        if note:
            parts.append(f'<p class="note">{html.escape(note)}</p>')
        parts.append('<div class="row">')
        parts.append(
            _figure(_data_uri(annotated_image(item, HTML_FULL_IMAGE_SIDE)), "full image", "", "full")
        )
        for i, t in enumerate(item.tiles):
            parts.append(_tile_html(t, tile_label(item, i)))
        parts.append("</div></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _tile_html(tile: PreviewTile, label: str) -> str:
    if tile.pixels is None:
        return (
            f'<figure class="rejected"><div></div><figcaption><b>{html.escape(label)}</b><br>'
            f"{html.escape(tile.caption)}</figcaption></figure>"
        )
    pixels = tile.pixels
    if max(pixels.shape[:2]) > HTML_VIEW_SIDE:
        pixels = np.asarray(_fit(pixels, HTML_VIEW_SIDE))
    return _figure(_data_uri(pixels), label, tile.caption, "view")


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
