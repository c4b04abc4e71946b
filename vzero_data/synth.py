"""Synthetic fine-grained scenes: vzero's embedded default data set.

Each scene is a cluttered image of many small shapes with one multiple-choice question about a
single small target. The target's colour is unique in the image and nothing else touches its box,
so the ground-truth box is exact (the tight bounding box of the drawn pixels) and tests can check
views by colour. The target covers well under 2% of the image: the question is genuinely
fine-grained. Generation is a pure function of ``(seed, index, size)``: same inputs, same PNG bytes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from vzero_data.boxes import Box

SOURCE_NAME = "synthetic"
MANIFEST_NAME = "manifest.jsonl"
IMAGES_DIRNAME = "images"

PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (220, 30, 30),
    "green": (40, 170, 60),
    "blue": (40, 80, 220),
    "yellow": (240, 210, 40),
    "purple": (140, 60, 180),
    "orange": (245, 130, 30),
    "cyan": (40, 200, 210),
    "pink": (240, 120, 180),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
    "brown": (130, 80, 40),
}
SHAPES = ("circle", "square", "triangle", "diamond", "cross", "star")
# Background and text stay inside this channel range, which no palette colour fits in: a pixel of
# a palette colour is always an object pixel.
BACKGROUND_RANGE = (90, 170)
TEXT_COLOR = (60, 60, 60)
TEXT_WORDS = ("EXIT", "SALE", "OPEN", "NO 7", "A12", "STOP", "K9", "LOT", "ZONE", "B4")

TARGET_SIDE_FRACTION = (0.015, 0.03)
DISTRACTOR_SIDE_FRACTION = (0.02, 0.09)
MIN_TARGET_SIDE = 8
TARGET_CLEARANCE_FRACTION = 0.01


@dataclass(frozen=True)
class SceneObject:
    shape: str
    color: str
    box: Box


@dataclass(frozen=True)
class Scene:
    """One generated scene: pixels plus everything needed to ask about its target."""

    image: Image.Image
    target: SceneObject
    question: str
    options: tuple[str, ...]
    answer: str
    target_phrase: str
    kind: str
    region: str
    objects: tuple[SceneObject, ...] = field(default_factory=tuple)


def _shape_mask(shape: str, side: int, rng: np.random.Generator) -> Image.Image:
    """A binary (``L``, values 0/255) mask of ``shape`` inscribed in a ``side x side`` patch."""
    mask = Image.new("L", (side, side), 0)
    draw = ImageDraw.Draw(mask)
    s = side - 1
    if shape == "circle":
        draw.ellipse((0, 0, s, s), fill=255)
    elif shape == "square":
        inset = int(rng.integers(0, max(1, side // 6)))
        draw.rectangle((0, inset, s, s - inset), fill=255)
    elif shape == "triangle":
        draw.polygon([(s / 2, 0), (s, s), (0, s)], fill=255)
    elif shape == "diamond":
        draw.polygon([(s / 2, 0), (s, s / 2), (s / 2, s), (0, s / 2)], fill=255)
    elif shape == "cross":
        t = max(1, side // 3)
        lo, hi = (side - t) // 2, (side - t) // 2 + t - 1
        draw.rectangle((lo, 0, hi, s), fill=255)
        draw.rectangle((0, lo, s, hi), fill=255)
    elif shape == "star":
        c, r_out, r_in = s / 2, s / 2, s / 5
        pts = []
        for k in range(10):
            ang = -np.pi / 2 + k * np.pi / 5
            r = r_out if k % 2 == 0 else r_in
            pts.append((c + r * np.cos(ang), c + r * np.sin(ang)))
        draw.polygon(pts, fill=255)
    else:
        raise ValueError(f"unknown shape {shape!r}; known: {', '.join(SHAPES)}")
    return mask


def _paint(canvas: Image.Image, mask: Image.Image, x: int, y: int, color: tuple[int, int, int]) -> Box:
    """Paint ``color`` through ``mask`` at ``(x, y)``; return the tight box of the painted pixels."""
    canvas.paste(color, (x, y), mask)
    left, top, right, bottom = mask.getbbox()
    return Box(x + left, y + top, x + right, y + bottom)


def _background(size: int, rng: np.random.Generator) -> np.ndarray:
    lo, hi = BACKGROUND_RANGE
    a, b = rng.uniform(lo + 15, hi - 15, size=(2, 3))
    t = np.linspace(0.0, 1.0, size, dtype=np.float32)
    grad = t[:, None] if rng.integers(2) else t[None, :]
    base = a[None, None, :] * (1 - grad[..., None]) + b[None, None, :] * grad[..., None]
    noise = rng.integers(-3, 4, size=(size, size, 3))
    return np.clip(base + noise, lo, hi).astype(np.uint8)


def region_name(box: Box, width: int, height: int) -> str:
    """Coarse location words for a box centre: one of nine thirds of the image."""
    cx, cy = box.center
    row = ("top", "", "bottom")[min(2, int(3 * cy / height))]
    col = ("left", "", "right")[min(2, int(3 * cx / width))]
    return " ".join(p for p in (row, col) if p) or "center"


def _side(size: int, fraction: tuple[float, float], rng: np.random.Generator, minimum: int) -> int:
    return max(minimum, int(round(size * rng.uniform(*fraction))))


def _overlaps(box: Box, keep_out: Box) -> bool:
    return box.intersection_area(keep_out) > 0


def make_scene(seed: int, index: int, size: int = 1024, *, text: bool = False) -> Scene:
    """Generate scene ``index`` of the family ``seed``; a pure function of its arguments."""
    if size < 128:
        raise ValueError(f"synthetic scenes need size >= 128, got {size}")
    rng = np.random.default_rng([seed, index, size])
    canvas = Image.fromarray(_background(size, rng), "RGB")

    target_shape = str(rng.choice(SHAPES))
    target_color = str(rng.choice(list(PALETTE)))
    t_side = _side(size, TARGET_SIDE_FRACTION, rng, MIN_TARGET_SIDE)
    margin = max(4, int(size * 0.03))
    tx, ty = (int(v) for v in rng.integers(margin, size - margin - t_side, size=2))
    t_mask = _shape_mask(target_shape, t_side, rng)
    clearance = max(3, int(size * TARGET_CLEARANCE_FRACTION))
    t_left, t_top, t_right, t_bottom = t_mask.getbbox()
    keep_out = Box(tx + t_left, ty + t_top, tx + t_right, ty + t_bottom).expand(pixels=clearance)

    other_colors = [c for c in PALETTE if c != target_color]
    objects: list[SceneObject] = []
    n_objects = int(rng.integers(25, 45))
    n_same_shape = int(rng.integers(3, 6))
    for i in range(n_objects):
        shape = target_shape if i < n_same_shape else str(rng.choice(SHAPES))
        color = str(rng.choice(other_colors))
        # Same-shape distractors are at least twice the target's size, so "the small <shape>" is unique.
        low = 2 * t_side if shape == target_shape else int(size * DISTRACTOR_SIDE_FRACTION[0])
        side = max(low, _side(size, DISTRACTOR_SIDE_FRACTION, rng, MIN_TARGET_SIDE))
        mask = _shape_mask(shape, side, rng)
        for _ in range(30):
            x, y = (int(v) for v in rng.integers(0, size - side, size=2))
            if not _overlaps(Box(x, y, x + side, y + side), keep_out):
                objects.append(SceneObject(shape, color, _paint(canvas, mask, x, y, PALETTE[color])))
                break

    if text:
        draw = ImageDraw.Draw(canvas)
        draw.fontmode = "1"  # no anti-aliasing: text pixels stay exactly TEXT_COLOR
        font = ImageFont.load_default_imagefont()
        for _ in range(int(rng.integers(4, 10))):
            word = str(rng.choice(TEXT_WORDS))
            x, y = (int(v) for v in rng.integers(0, size - 40, size=2))
            left, top, right, bottom = draw.textbbox((x, y), word, font=font)
            if not _overlaps(Box(left, top, right + 1, bottom + 1), keep_out):
                draw.text((x, y), word, fill=TEXT_COLOR, font=font)

    target = SceneObject(target_shape, target_color, _paint(canvas, t_mask, tx, ty, PALETTE[target_color]))
    region = region_name(target.box, size, size)
    kind = "color" if rng.integers(3) else "shape"
    if kind == "color":
        distractor_answers = [str(c) for c in rng.choice(other_colors, size=3, replace=False)]
        answer, phrase = target_color, f"small {target_shape}"
        question = f"What is the color of the small {target_shape} near the {region}?"
    else:
        distractor_answers = [
            str(s) for s in rng.choice([s for s in SHAPES if s != target_shape], size=3, replace=False)
        ]
        answer, phrase = target_shape, f"small {target_color} object"
        question = f"What is the shape of the small {target_color} object near the {region}?"
    options = [answer, *distractor_answers]
    order = rng.permutation(len(options))
    return Scene(
        image=canvas,
        target=target,
        question=question,
        options=tuple(options[i] for i in order),
        answer=answer,
        target_phrase=phrase,
        kind=kind,
        region=region,
        objects=tuple(objects),
    )


def scene_record(scene: Scene, image_relpath: str, scene_id: str, seed: int, index: int) -> dict[str, Any]:
    """The manifest line for a scene, in the generic JSONL ingest format (``bbox`` is xyxy pixels)."""
    width, height = scene.image.size
    return {
        "id": scene_id,
        "image": image_relpath,
        "width": width,
        "height": height,
        "question": scene.question,
        "options": list(scene.options),
        "answer": scene.answer,
        "target": scene.target_phrase,
        "bbox": scene.target.box.to_list(),
        "source": SOURCE_NAME,
        "kind": scene.kind,
        "region": scene.region,
        "target_shape": scene.target.shape,
        "target_color": scene.target.color,
        "target_rgb": list(PALETTE[scene.target.color]),
        "n_objects": len(scene.objects) + 1,
        "seed": seed,
        "index": index,
    }


def write_scenes(
    out_dir: str | os.PathLike[str],
    n: int,
    *,
    size: int = 1024,
    seed: int = 0,
    text: bool = False,
    progress: bool = True,
) -> Path:
    """Write ``n`` scenes as PNGs under ``out_dir/images`` plus ``out_dir/manifest.jsonl``.

    The manifest is written last, through a temporary file and a rename, so a manifest on disk
    always lists images that exist. Returns the manifest path.
    """
    from vzero_data.progress import progress_bar

    if n < 1:
        raise ValueError(f"--n must be at least 1, got {n}")
    out = Path(out_dir)
    (out / IMAGES_DIRNAME).mkdir(parents=True, exist_ok=True)
    records = []
    for index in progress_bar(range(n), desc="synth", unit="img", enabled=progress):
        scene = make_scene(seed, index, size, text=text)
        scene_id = f"synth-s{seed}-{index:06d}"
        relpath = f"{IMAGES_DIRNAME}/{scene_id}.png"
        scene.image.save(out / relpath, format="PNG")
        records.append(scene_record(scene, relpath, scene_id, seed, index))
    manifest = out / MANIFEST_NAME
    tmp = manifest.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, sort_keys=True) + "\n")
    os.replace(tmp, manifest)
    return manifest


def read_manifest(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """Yield manifest records; a malformed line raises an error naming the file and line number."""
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{line_no}: malformed JSON ({exc.msg})") from exc


def summarize(manifest_path: str | os.PathLike[str]) -> dict[str, Any]:
    """Counts and target-size statistics of a synthetic set, for the CLI's summary."""
    records = list(read_manifest(manifest_path))
    if not records:
        return {"n": 0}
    ratios = np.array(
        [Box.from_xyxy(r["bbox"]).area_ratio(r["width"], r["height"]) for r in records], dtype=np.float64
    )
    kinds: dict[str, int] = {}
    for r in records:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    root = Path(manifest_path).parent
    return {
        "n": len(records),
        "image_size": sorted({f"{r['width']}x{r['height']}" for r in records}),
        "question_kinds": kinds,
        "objects_per_image_mean": float(np.mean([r["n_objects"] for r in records])),
        "target_area_ratio": {
            "min": float(ratios.min()),
            "median": float(np.median(ratios)),
            "max": float(ratios.max()),
        },
        "bytes_on_disk": sum((root / r["image"]).stat().st_size for r in records),
        "manifest": str(manifest_path),
        "example": {k: records[0][k] for k in ("question", "options", "answer", "target", "bbox")},
    }
