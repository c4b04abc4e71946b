"""Fixtures for pipeline tests: a small synthetic source with two bad rows, recipes, store snapshots."""

import json
from pathlib import Path

import pytest

from vzero_core.recipe_base import apply_overrides
from vzero_data.pipeline import recipe_from_mapping
from vzero_data.synth import write_scenes

N_SCENES = 8
SCENE_SIZE = 384
BAD_ROWS = [
    {
        "id": "bad-missing-image",
        "image": "images/nope.png",
        "question": "What colour is the dot?",
        "bbox": [1, 1, 9, 9],
    },
    {"id": "bad-no-box", "image": "images/synth-s0-000000.png", "question": "Is there a box at all?"},
]
# Samples the fixture's source yields that a run keeps / rejects.
N_ROWS = N_SCENES + len(BAD_ROWS)


def write_test_scenes(out: Path) -> Path:
    """``N_SCENES`` small synthetic scenes plus two rows that must become rejects."""
    manifest = write_scenes(out, N_SCENES, size=SCENE_SIZE, seed=0, progress=False)
    with open(manifest, "a", encoding="utf-8") as fh:
        for row in BAD_ROWS:
            fh.write(json.dumps(row) + "\n")
    return out


@pytest.fixture(scope="session")
def scenes(tmp_path_factory) -> Path:
    return write_test_scenes(tmp_path_factory.mktemp("scenes"))


def recipe_data(scenes: Path, *overrides: str) -> dict:
    data = {
        "name": "test",
        "source": {"adapter": "synthetic", "path": str(scenes)},
        "grounding": {"backend": "annotated"},
        "crop": {"margin_ratio": 0.5, "min_side": 32},
        "negatives": [
            {"strategy": "downsampled_distractor"},
            {"strategy": "masked"},
            {"strategy": "shuffled", "count": 2},
            {"strategy": "cross_image", "pool": str(scenes / "images")},
        ],
        "store": {"shard_max_mb": 0.05},  # several batches per run
        "execution": {"workers": 0, "progress": False, "grounding_batch_size": 3, "samples_per_task": 2},
    }
    return apply_overrides(data, overrides)


@pytest.fixture
def make_recipe(scenes):
    def make(*overrides: str):
        return recipe_from_mapping(recipe_data(scenes, *overrides), "test.yaml")

    return make


def snapshot(store_path) -> dict[str, list]:
    """Every row of every per-sample table, sorted, without run ids: what two runs must agree on."""
    from vzero_data.store import open_store

    store = open_store(store_path)
    tables = {
        "samples": "* EXCLUDE (run_id)",
        "images": "*",
        "regions": "*",
        "views": "*",
        "rejects": "* EXCLUDE (run_id)",
    }
    return {
        t: sorted(store.query(f"SELECT {cols} FROM {t}").to_pylist(), key=repr) for t, cols in tables.items()
    }
