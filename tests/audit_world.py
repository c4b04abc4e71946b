"""The shared-colour world, for the audit's tests and benchmark: scenes from a seed, curated into a
store with a positive crop and one view of every negative strategy, and a tiny teacher trained by
the project's SFT on (full image, question, positive crop) -> answer.

The settings are those the evidence sandbox used on this world (its recipe's world, curation
sections and ``sft:`` section, the teacher with ``inputs: full_and_positive``), written out here so
the tests keep measuring this world whatever world the sandbox moves to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

WORLD = {"size": 112, "n_options": 4, "objects_per_colour": 2, "side_fraction": (0.14, 0.22)}
NEGATIVES = [
    {"strategy": "downsampled_distractor"},
    {"strategy": "distractor"},
    {"strategy": "random_positive"},
    {"strategy": "masked"},
    {"strategy": "shuffled", "params": {"grid": 2}},
    {"strategy": "degraded"},
    {"strategy": "downsampled_view"},
    {"strategy": "cross_image", "pool": "POOL"},
]
# the sandbox's quick teacher: 256 scenes, 100 steps of batch 16
TEACHER_SCENES, TEACHER_STEPS = 256, 100
TEACHER_SEED, TEST_SEED = 1001, 1005


def curation_recipe(scenes: Path, *, negatives: list[dict[str, Any]] | None = None) -> Any:
    """The sandbox's curation of one split (annotated boxes, every negative strategy)."""
    from vzero_data.pipeline import recipe_from_mapping

    negs = [dict(n) for n in (NEGATIVES if negatives is None else negatives)]
    for n in negs:
        if n.get("pool") == "POOL":
            n["pool"] = str(scenes / "images")
    return recipe_from_mapping(
        {
            "name": f"audit-world-{scenes.name}",
            "source": {"adapter": "synthetic", "path": str(scenes)},
            "grounding": {"backend": "annotated", "selection": {"mode": "top1", "max_area_ratio": 0.2}},
            "crop": {"margin_ratio": 0.2, "min_side": 16, "upscale_min_pixels": None},
            "negatives": negs,
            "checks": {
                "min_view_side": 4,
                "min_pixel_std": 0.0,
                "reject_duplicate_views": False,
                "require_all_negatives": False,
            },
            "store": {"image_format": "png"},
            "execution": {"workers": 0, "device": "cpu", "progress": False},
        }
    )


def build_split(root: Path, name: str, n: int, seed: int, **recipe_kwargs: Any) -> Path:
    """Write ``n`` shared-colour scenes from ``seed`` under ``root/name`` and curate them into
    ``root/name-store``; returns the store."""
    from vzero_data.pipeline.runner import curate
    from vzero_data.synth import SHARED_COLOUR_WORLD, SharedColourKnobs, write_scenes

    scenes = root / name
    write_scenes(
        scenes, n, seed=seed, world=SHARED_COLOUR_WORLD, knobs=SharedColourKnobs(**WORLD), progress=False
    )
    store = root / f"{name}-store"
    curate(curation_recipe(scenes, **recipe_kwargs), store)
    return store


def train_teacher(root: Path, store: Path, steps: int = TEACHER_STEPS) -> Path:
    """The sandbox's tiny teacher: SFT from random weights on full image + positive crop -> the
    option's text; returns its model folder."""
    from vzero_train.checkpoint import latest_checkpoint
    from vzero_train.sft import train_sft
    from vzero_train.sft_config import SFTConfig

    config = SFTConfig.model_validate(
        {
            "store": str(store),
            "output_dir": str(root / "teacher-sft"),
            "model": "tiny:qwen2_5_vl",
            "tiny": {"hidden_size": 128, "num_layers": 2, "image_size": 112},
            "inputs": "full_and_positive",
            "answer": "option",
            "steps": steps,
            "batch_size": 16,
            "optim": {"lr": 1.0e-3},
            "save_every": 1000,
            "keep_last": 1,
            "device": "cpu",
        }
    )
    train_sft(config, progress=False)
    return latest_checkpoint(root / "teacher-sft") / "model"
