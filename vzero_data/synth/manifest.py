"""Writing and reading a synthetic set: PNGs under ``images/`` plus ``manifest.jsonl`` in the generic
JSONL ingest format, for every world (:data:`WORLDS`)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from vzero_core.boxes import Box
from vzero_data.synth.big_small import WORLD_NAME as BIG_SMALL_WORLD
from vzero_data.synth.big_small import BigSmallKnobs, make_big_small_scene
from vzero_data.synth.clutter import WORLD_NAME as CLUTTER_WORLD
from vzero_data.synth.clutter import make_scene
from vzero_data.synth.scene import PALETTE, Scene
from vzero_data.synth.shared_colour import WORLD_NAME as SHARED_COLOUR_WORLD
from vzero_data.synth.shared_colour import SharedColourKnobs, make_shared_colour_scene

SOURCE_NAME = "synthetic"
MANIFEST_NAME = "manifest.jsonl"
IMAGES_DIRNAME = "images"


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


KNOBS = {SHARED_COLOUR_WORLD: SharedColourKnobs, BIG_SMALL_WORLD: BigSmallKnobs}
WORLDS = (CLUTTER_WORLD, *KNOBS)


def scene_maker(
    world: str,
    *,
    size: int = 1024,
    text: bool = False,
    knobs: SharedColourKnobs | BigSmallKnobs | None = None,
) -> Callable[[int, int], Scene]:
    """``make(seed, index) -> Scene`` of ``world``; knobs of another world are an error, not ignored."""
    if world not in WORLDS:
        raise ValueError(f"unknown synthetic world {world!r}; known: {', '.join(WORLDS)}")
    if world == CLUTTER_WORLD:
        if knobs is not None:
            raise ValueError(f"difficulty knobs apply to the {', '.join(KNOBS)} worlds, not {world!r}")
        return lambda seed, index: make_scene(seed, index, size, text=text)
    if knobs is not None and not isinstance(knobs, KNOBS[world]):
        raise ValueError(f"{type(knobs).__name__} are not knobs of the {world} world")
    knobs = knobs or KNOBS[world]()
    if world == SHARED_COLOUR_WORLD:
        return lambda seed, index: make_shared_colour_scene(seed, index, knobs)
    return lambda seed, index: make_big_small_scene(seed, index, knobs)


def write_scenes(
    out_dir: str | os.PathLike[str],
    n: int,
    *,
    size: int = 1024,
    seed: int = 0,
    text: bool = False,
    progress: bool = True,
    world: str = CLUTTER_WORLD,
    knobs: SharedColourKnobs | BigSmallKnobs | None = None,
) -> Path:
    """Write ``n`` scenes as PNGs under ``out_dir/images`` plus ``out_dir/manifest.jsonl``.

    ``world`` picks the generator: ``clutter`` (the default: many small shapes, a target of unique
    colour; ``size`` and ``text`` apply), ``shared_colour`` (every colour on several objects, the
    target singled out by shape) or ``big_small`` (a big target and a small distractor in two
    quadrants); ``knobs`` set the size and difficulty of the last two. The manifest is written
    last, through a temporary file and a rename, so a manifest on disk always lists images that
    exist. Returns the manifest path.
    """
    from vzero_core.progress import progress_bar

    if n < 1:
        raise ValueError(f"--n must be at least 1, got {n}")
    make = scene_maker(world, size=size, text=text, knobs=knobs)
    out = Path(out_dir)
    (out / IMAGES_DIRNAME).mkdir(parents=True, exist_ok=True)
    records = []
    for index in progress_bar(range(n), desc="synth", unit="img", enabled=progress):
        scene = make(seed, index)
        scene_id = (
            f"synth-s{seed}-{index:06d}" if world == CLUTTER_WORLD else f"synth-{world}-s{seed}-{index:06d}"
        )
        relpath = f"{IMAGES_DIRNAME}/{scene_id}.png"
        scene.image.save(out / relpath, format="PNG")
        record = scene_record(scene, relpath, scene_id, seed, index)
        if world != CLUTTER_WORLD:
            record["world"] = world
        records.append(record)
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
