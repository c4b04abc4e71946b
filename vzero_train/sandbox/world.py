"""The sandbox's world: synthetic scenes in five splits disjoint by seed, each curated into a store.

Splits: ``teacher`` (the teacher's SFT), ``student`` (the base student's SFT), ``opd`` (the arms'
on-policy data: its answers are never read), ``val`` and ``test`` (held out; every reported number
comes from ``test``). Every split is generated from its own seed, so sample ids (which carry the
seed) and images never repeat across splits; :func:`check_disjoint` verifies both before training.
Each split is curated with the recipe's curation sections (annotated boxes, a positive crop, one
view per negative strategy) into ``stores/<split>``; reruns skip what exists.

Each split's curation config hash is pinned in ``world/curation.json`` once its curation finishes,
and every later stage reads that split's records under the pinned hash. A resumed sandbox therefore
keeps the views its teacher and students were trained on, even when the code has since changed a
view's output (which changes the hash and would otherwise curate the split a second time).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vzero_data.synth import MANIFEST_NAME, BigSmallKnobs, SharedColourKnobs, read_manifest, write_scenes
from vzero_train.sandbox.config import SPLIT_NAMES, SandboxConfig

SPLIT_TOKEN = "SPLIT"
CURATION_FILE = "curation.json"


class WorldError(ValueError):
    """A world folder that does not match the run's sizes, or splits that overlap."""


def knobs(config: SandboxConfig) -> BigSmallKnobs | SharedColourKnobs:
    """The generator knobs of the recipe's world."""
    w = config.world
    if w.name == "big_small":
        return BigSmallKnobs(
            size=w.size,
            n_options=w.n_options,
            target_side=tuple(w.target_side),
            distractor_side=tuple(w.distractor_side),
        )
    return SharedColourKnobs(
        size=w.size,
        n_options=w.n_options,
        objects_per_colour=w.objects_per_colour,
        side_fraction=tuple(w.side_fraction),
        target_scale=w.target_scale,
    )


def write_split(
    out: Path, split: str, seed: int, n: int, world: str, world_knobs: BigSmallKnobs | SharedColourKnobs
) -> Path:
    """Scenes of one split under ``out/world/<split>`` (kept when already written with ``n`` scenes)."""
    folder = out / "world" / split
    manifest = folder / MANIFEST_NAME
    if manifest.is_file():
        have = sum(1 for _ in read_manifest(manifest))
        if have != n:
            raise WorldError(f"{folder} holds {have} scenes, this run needs {n}: use another --out")
        return manifest
    return write_scenes(folder, n, seed=seed, world=world, knobs=world_knobs, progress=False)


def image_digests(manifest: Path) -> dict[str, str]:
    """SHA-256 of every scene's PNG bytes, by sample id."""
    root = manifest.parent
    return {
        r["id"]: hashlib.sha256((root / r["image"]).read_bytes()).hexdigest() for r in read_manifest(manifest)
    }


def check_disjoint(manifests: dict[str, Path]) -> dict[str, int]:
    """Raise :class:`WorldError` if two splits share a sample id or an image; return split sizes."""
    seen_ids: dict[str, str] = {}
    seen_images: dict[str, str] = {}
    sizes = {}
    for split, manifest in manifests.items():
        digests = image_digests(manifest)
        sizes[split] = len(digests)
        for sid, digest in digests.items():
            if sid in seen_ids:
                raise WorldError(f"sample {sid} is in both {seen_ids[sid]} and {split}")
            if digest in seen_images:
                raise WorldError(
                    f"split {split}: sample {sid} repeats an image of split {seen_images[digest]}"
                )
            seen_ids[sid] = split
            seen_images[digest] = split
    return sizes


SFT_SPLITS = ("teacher", "student")


def curation_recipe(doc: dict[str, Any], out: Path, split: str, sft_negatives: list[str] | None = None):
    """The recipe's curation sections for one split (``SPLIT`` paths resolved under ``out``); the
    SFT splits keep only ``sft_negatives`` (their training reads the positive crop alone)."""
    from vzero_data.pipeline import recipe_from_mapping

    data = {k: copy.deepcopy(v) for k, v in doc.items() if k not in ("sandbox", "sft", "train")}
    if split in SFT_SPLITS and sft_negatives:
        data["negatives"] = [n for n in data.get("negatives", []) if n["strategy"] in sft_negatives]
    resolve = lambda p: str(out / p.replace(SPLIT_TOKEN, split))  # noqa: E731
    data["source"]["path"] = resolve(data["source"]["path"])
    for neg in data.get("negatives", []):
        if neg.get("pool"):
            neg["pool"] = resolve(neg["pool"])
    data["name"] = f"{data.get('name', 'sandbox')}-{split}"
    return recipe_from_mapping(data, f"sandbox:{split}")


def store_config_hashes(store: Path) -> list[str]:
    """The config hashes ``store`` holds finished samples of (none when there is no store yet)."""
    from vzero_data.store import open_store

    if not store.is_dir():
        return []
    table = open_store(store).query(
        "SELECT config_hash FROM samples UNION SELECT config_hash FROM rejects ORDER BY 1"
    )
    return table.column(0).to_pylist()


def pinned_hashes(out: Path) -> dict[str, str]:
    """``{split: config hash}`` of the splits whose curation has finished in ``out``."""
    path = out / "world" / CURATION_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def pin_hash(out: Path, split: str, chash: str) -> None:
    from vzero_core.atomic_text import write_text_atomic

    pins = {**pinned_hashes(out), split: chash}
    write_text_atomic(out / "world" / CURATION_FILE, json.dumps(pins, indent=2, sort_keys=True) + "\n")


def earlier_hash(out: Path, split: str) -> str | None:
    """The hash this split was curated under by an earlier invocation, if any.

    A pin counts while the store still holds its samples; a store written before pins existed
    counts when it holds exactly one hash."""
    held = store_config_hashes(out / "stores" / split)
    pinned = pinned_hashes(out).get(split)
    if pinned is not None:
        return pinned if pinned in held else None
    return held[0] if len(held) == 1 else None


def build_world(
    out: Path,
    doc: dict[str, Any],
    config: SandboxConfig,
    split_n: dict[str, int],
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Write and curate every split; returns facts for the report (sizes, curation counts, and
    each split's config hash under ``curation[split]["config_hash"]``, which later stages read)."""
    from vzero_data.pipeline import config_hash
    from vzero_data.pipeline.runner import curate

    world = knobs(config)
    manifests = {
        split: write_split(out, split, config.split_seeds[split], split_n[split], config.world.name, world)
        for split in SPLIT_NAMES
    }
    sizes = check_disjoint(manifests)
    curated = {}
    for split in SPLIT_NAMES:
        recipe = curation_recipe(doc, out, split, config.sft_split_negatives)
        current, earlier = config_hash(recipe), earlier_hash(out, split)
        if earlier is not None and earlier != current:
            log(
                f"  {split}: keeping the views curated under config hash {earlier}; this code would "
                f"curate {current} (a view's output changed). Use a new --out for the new views."
            )
            pin_hash(out, split, earlier)
            curated[split] = {"config_hash": earlier, "nothing_to_do": True, "current_config_hash": current}
            continue
        outcome = curate(recipe, out / "stores" / split)
        pin_hash(out, split, outcome.summary.config_hash)
        curated[split] = {
            "config_hash": outcome.summary.config_hash,
            "nothing_to_do": outcome.nothing_to_do,
        }
    facts = {
        "name": config.world.name,
        "sizes": sizes,
        "curation": curated,
        "knobs": json.loads(json.dumps(world.__dict__)),
    }
    return facts
