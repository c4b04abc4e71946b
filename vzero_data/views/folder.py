"""A folder of views: images plus a JSONL index, for previews and hand inspection without a store.

Layout::

    DIR/views.jsonl                        one line per sample (written last, atomically)
    DIR/images/<sample>/image.<fmt>        the full image
    DIR/images/<sample>/<i>-<kind>-<strategy>.<fmt>
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from vzero_core.boxes import Box
from vzero_data.views.encoding import decode_rgb, encode_rgb
from vzero_data.views.view import View

INDEX_NAME = "views.jsonl"
IMAGES_DIRNAME = "images"
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}


@dataclass(frozen=True)
class SampleViews:
    """A sample's image, target box, the views made for it and the negatives that were rejected.

    ``rejects`` items are ``{"strategy": ..., "reason": ..., "detail": ...}``.
    """

    sample_id: str
    image: np.ndarray
    target: Box
    views: Sequence[View]
    question: str = ""
    rejects: Sequence[Mapping[str, str]] = field(default_factory=tuple)


def safe_name(sample_id: str) -> str:
    """A file-system-safe folder name for a sample id (a short hash disambiguates rewritten ids)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", sample_id)[:80].lstrip(".") or "sample"
    if cleaned != sample_id:
        cleaned += "-" + hashlib.sha256(sample_id.encode()).hexdigest()[:8]
    return cleaned


def write_views_folder(
    out_dir: str | os.PathLike[str],
    samples: Iterable[SampleViews],
    *,
    image_format: str = "png",
    progress: bool = True,
) -> Path:
    """Write ``samples`` (streamed: one sample in memory at a time); return the index path."""
    from vzero_core.progress import progress_bar

    ext = EXTENSIONS.get(image_format.lower().replace("jpg", "jpeg"))
    if ext is None:
        raise ValueError(f"unknown image format {image_format!r}; known: {', '.join(EXTENSIONS)}")
    fmt = "jpeg" if ext == "jpg" else ext
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    index = out / INDEX_NAME
    tmp = index.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        for item in progress_bar(samples, desc="views folder", unit="sample", enabled=progress):
            folder = Path(IMAGES_DIRNAME) / safe_name(item.sample_id)
            (out / folder).mkdir(parents=True, exist_ok=True)
            image_rel = folder / f"image.{ext}"
            (out / image_rel).write_bytes(encode_rgb(item.image, fmt))
            views = []
            for i, view in enumerate(item.views):
                row = view.to_row(item.sample_id, image_format=fmt)
                rel = folder / f"{i:02d}-{view.kind}-{view.strategy}.{ext}"
                (out / rel).write_bytes(row.pop("image_bytes"))
                views.append({"file": rel.as_posix(), **row})
            record = {
                "sample_id": item.sample_id,
                "question": item.question,
                "image": image_rel.as_posix(),
                "width": int(item.image.shape[1]),
                "height": int(item.image.shape[0]),
                "target": item.target.to_list(),
                "views": views,
                "rejects": [dict(r) for r in item.rejects],
            }
            fh.write(json.dumps(record, sort_keys=True) + "\n")
    os.replace(tmp, index)
    return index


def _view_from_record(root: Path, rec: Mapping[str, Any]) -> View:
    path = root / rec["file"]
    return View(
        kind=rec["kind"],
        strategy=rec["strategy"],
        params=json.loads(rec["params"]),
        seed=int(rec["seed"]),
        box=Box.from_xyxy(rec["box"]) if rec.get("box") is not None else None,
        pixels=decode_rgb(path.read_bytes(), str(path)),
        overlap_iou=float(rec["overlap_iou"]),
        overlap_target=float(rec["overlap_target"]),
        source_image_sha256=rec.get("source_image_sha256"),
        checks=json.loads(rec["checks"]),
    )


def read_views_folder(folder: str | os.PathLike[str], limit: int | None = None) -> Iterator[SampleViews]:
    """Yield the samples of a views folder in index order (decoded one at a time)."""
    root = Path(folder)
    index = root / INDEX_NAME
    if not index.is_file():
        raise FileNotFoundError(f"{root} is not a views folder: {INDEX_NAME} is missing")
    with open(index, encoding="utf-8") as fh:
        count = 0
        for line_no, line in enumerate(fh, start=1):
            if limit is not None and count >= limit:
                return
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
                image_path = root / rec["image"]
                yield SampleViews(
                    sample_id=rec["sample_id"],
                    image=decode_rgb(image_path.read_bytes(), str(image_path)),
                    target=Box.from_xyxy(rec["target"]),
                    views=[_view_from_record(root, v) for v in rec["views"]],
                    question=rec.get("question", ""),
                    rejects=tuple(rec.get("rejects", ())),
                )
            except (json.JSONDecodeError, KeyError, ValueError, OSError) as exc:
                raise ValueError(f"{index}:{line_no}: bad views record ({exc})") from exc
            count += 1
