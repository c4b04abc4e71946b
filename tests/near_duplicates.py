"""Test-only fixtures for near-duplicate and contamination tests: procedural photos, the copies the
issue lists (resized, re-encoded, cropped, recoloured, region crops) and a V*-layout benchmark.

Photos are 1/f ("pink") noise landscapes (the spectrum of natural images) with a horizon, sky and
textured objects; a seed fixes every pixel. Synthetic scenes come from ``vzero_data.synth``.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageEnhance

REGION_SOURCE_SIZE = (2246, 1582)  # the region case: a 512x512 window of such an image
REGION_WINDOW = 512
REGION_OUTPUT = 336


def _pink(rng: np.random.Generator, h: int, w: int, beta: float) -> np.ndarray:
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx**2 + fy**2)
    f[0, 0] = 1.0
    spec = (rng.normal(size=f.shape) + 1j * rng.normal(size=f.shape)) / f ** (beta / 2)
    spec[0, 0] = 0
    x = np.fft.irfft2(spec, s=(h, w))
    return ((x - x.mean()) / (x.std() + 1e-9)).astype(np.float32)


def photo(seed: int, size: tuple[int, int] = (1123, 791)) -> np.ndarray:
    """A procedural landscape photo, ``size`` = (width, height), RGB uint8."""
    w, h = size
    rng = np.random.default_rng([seed, w, h])
    palette = rng.uniform(30, 220, size=(4, 3)).astype(np.float32)
    texture = cv2.resize(_pink(rng, h // 4, w // 4, 2.2), (w, h), interpolation=cv2.INTER_LINEAR)
    horizon = (h * rng.uniform(0.25, 0.55) + _pink(rng, 1, w, 2.5)[0] * h * 0.05).astype(int)
    rows = np.arange(h, dtype=np.float32)[:, None]
    sky = rows < horizon[None, :]
    g = rows / h
    img = np.empty((h, w, 3), np.float32)
    for c in range(3):
        sky_c = palette[0, c] * (1 - g) + palette[1, c] * g
        ground = palette[2, c] + (palette[3, c] - palette[2, c]) * (0.5 + 0.2 * texture)
        img[..., c] = np.where(sky, sky_c + 6 * texture, ground)
    shade = 0.75 + 0.25 * texture
    for _ in range(int(rng.integers(15, 40))):
        colour = rng.uniform(0, 255, 3).astype(np.float32)
        cx, cy = rng.uniform(0, w), rng.uniform(h * 0.3, h)
        rx, ry = rng.uniform(8, w * 0.12), rng.uniform(8, h * 0.12)
        x0, x1 = int(max(0, cx - rx)), int(min(w, cx + rx + 1))
        y0, y1 = int(max(0, cy - ry)), int(min(h, cy + ry + 1))
        if x1 <= x0 or y1 <= y0:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        if rng.random() < 0.5:
            cv2.ellipse(
                mask,
                (int(cx) - x0, int(cy) - y0),
                (int(rx), int(ry)),
                float(rng.uniform(0, 180)),
                0,
                360,
                255,
                -1,
            )
        else:
            mask[:] = 255
        m = mask > 0
        img[y0:y1, x0:x1][m] = colour[None, :] * shade[y0:y1, x0:x1][m][:, None]
    img += 8 * cv2.resize(_pink(rng, h // 2, w // 2, 1.0), (w, h))[..., None]
    img = cv2.GaussianBlur(img, (0, 0), 1.2)
    return np.clip(img, 0, 255).astype(np.uint8)


def scene(seed: int, index: int, size: int = 768) -> np.ndarray:
    """A ``vzero_data.synth`` clutter scene as RGB pixels."""
    from vzero_data.synth import make_scene

    return np.asarray(make_scene(seed, index, size).image.convert("RGB"))


# -- the transformations ----------------------------------------------------------------------------
def jpeg(rgb: np.ndarray, quality: int = 60) -> np.ndarray:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def resized(rgb: np.ndarray, factor: float) -> np.ndarray:
    h, w = rgb.shape[:2]
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


def cropped(rgb: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """``fraction`` of the width and of the height cut off, split at random between the two sides."""
    h, w = rgb.shape[:2]
    dx, dy = round(w * fraction), round(h * fraction)
    x0, y0 = int(rng.integers(0, dx + 1)), int(rng.integers(0, dy + 1))
    return rgb[y0 : y0 + h - dy, x0 : x0 + w - dx]


def jittered(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Brightness, contrast and saturation each scaled by 0.8-1.2 (colour jitter)."""
    im = Image.fromarray(rgb)
    im = ImageEnhance.Brightness(im).enhance(rng.uniform(0.8, 1.2))
    im = ImageEnhance.Contrast(im).enhance(rng.uniform(0.8, 1.2))
    im = ImageEnhance.Color(im).enhance(rng.uniform(0.8, 1.2))
    return np.asarray(im)


def region_crop(
    rgb: np.ndarray,
    rng: np.random.Generator,
    window: int = REGION_WINDOW,
    out: int = REGION_OUTPUT,
    centre: tuple[float, float] | None = None,
) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A ``window``-pixel square of ``rgb`` resized to ``out`` px, and its box; around ``centre`` when
    given (the target of a scene), else anywhere."""
    h, w = rgb.shape[:2]
    if centre is None:
        x, y = int(rng.integers(0, w - window + 1)), int(rng.integers(0, h - window + 1))
    else:
        x = int(np.clip(centre[0] - rng.uniform(0.15, 0.85) * window, 0, w - window))
        y = int(np.clip(centre[1] - rng.uniform(0.15, 0.85) * window, 0, h - window))
    crop = cv2.resize(rgb[y : y + window, x : x + window], (out, out), interpolation=cv2.INTER_AREA)
    return crop, (x, y, x + window, y + window)


def flipped(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, ::-1])


# -- files ------------------------------------------------------------------------------------------
def save(rgb: np.ndarray, path: Path, quality: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"quality": quality} if quality else {}
    Image.fromarray(rgb).save(path, **kwargs)
    return path


def write_vstar(
    root: Path, images: dict[str, np.ndarray], boxes: dict[str, list[float]] | None = None
) -> Path:
    """A V* Bench folder as published: ``direct_attributes/<name>.jpg`` + ``<name>.json`` (question,
    options with the correct one first, ``target_object``, ``bbox`` as ``[x, y, w, h]``)."""
    sub = root / "direct_attributes"
    sub.mkdir(parents=True, exist_ok=True)
    for name, rgb in images.items():
        save(rgb, sub / f"{name}.jpg", quality=95)
        x1, y1, x2, y2 = (boxes or {}).get(name, [10, 10, 60, 60])
        item = {
            "question": f"What is the colour of the object in {name}?",
            "options": ["red", "blue", "green", "yellow"],
            "target_object": ["object"],
            "bbox": [[x1, y1, x2 - x1, y2 - y1]],
        }
        (sub / f"{name}.json").write_text(json.dumps(item))
    return root


# -- stores -----------------------------------------------------------------------------------------
def encoded(rgb: np.ndarray, fmt: str = "JPEG", quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, fmt, **({"quality": quality} if fmt == "JPEG" else {}))
    return buf.getvalue()


TEST_RECIPE = {
    "name": "near-duplicates",
    "source": {"adapter": "jsonl", "path": "unused.jsonl"},
    "crop": {"margin_ratio": 0.5, "min_side": 64},
    "negatives": [{"strategy": "masked"}],
}


def fixture_recipe(**checks):
    """The recipe the stores below are curated with (``checks`` sets ``checks.*`` fields)."""
    from vzero_core.recipe_base import apply_overrides
    from vzero_data.pipeline import recipe_from_mapping

    data = apply_overrides(TEST_RECIPE, [])
    data["checks"] = checks
    return recipe_from_mapping(data, "near-duplicates.yaml")


def grounded(name: str, rgb: np.ndarray, box: list[float] | None = None, question: str | None = None):
    """A sample on its way to the view stage: the image JPEG-encoded, ``box`` its target (default:
    a box at the image's centre)."""
    from vzero_core.boxes import Box
    from vzero_core.sample import Sample, image_digest, make_sample_id
    from vzero_data.pipeline.stages import Grounded

    data = encoded(rgb)
    h, w = rgb.shape[:2]
    target = Box.from_xyxy(box or [w * 0.45, h * 0.45, w * 0.55, h * 0.55])
    sha = image_digest(data)
    question = question or f"What is in {name}?"
    sample = Sample(
        sample_id=make_sample_id(sha, question),
        image=f"{name}.jpg",
        image_sha256=sha,
        width=w,
        height=h,
        question=question,
        boxes=(target,),
        source="test",
        metadata={"name": name},
    )
    return Grounded(sample, target, data, "jpeg")


def curated_store(root: Path, items: list, recipe=None):
    """A store of ``items`` (from :func:`grounded`) run through the real view stage and writer."""
    from vzero_data.pipeline.runner import write_result
    from vzero_data.pipeline.stages import build_views
    from vzero_data.store import open_store

    recipe = recipe or fixture_recipe()
    store = open_store(root, create=True)
    results = [build_views(item, recipe) for item in items]
    with store.writer("test-run", "cfg") as writer:
        for result in results:
            write_result(writer, result)
    return store, results
