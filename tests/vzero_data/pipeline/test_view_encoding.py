"""The store's view encoding (png, webp, jpeg with a quality) is recorded with every view, is part of
the config hash, and never changes the pixels a view is made of (its id covers them before encoding)."""

import pytest

from tests.vzero_data.pipeline.conftest import recipe_data
from vzero_data.pipeline import config_hash, recipe_from_mapping
from vzero_data.pipeline.runner import curate
from vzero_data.store import open_store
from vzero_data.views.encoding import decode_rgb


def _recipe(scenes, *overrides):
    data = recipe_data(scenes, "execution.limit=3", "negatives=[{strategy: masked}]", *overrides)
    return recipe_from_mapping(data, "test.yaml")


@pytest.mark.parametrize(
    "overrides, fmt, quality",
    [
        ((), "png", None),
        (("store.image_format=jpeg", "store.quality=80"), "jpeg", 80),
        (("store.image_format=webp", "store.quality=90"), "webp", 90),
    ],
)
def test_encoding_is_recorded_and_keeps_the_pixels_before_encoding(scenes, tmp_path, overrides, fmt, quality):
    png_store, other = tmp_path / "png", tmp_path / fmt
    curate(_recipe(scenes), png_store)
    curate(_recipe(scenes, *overrides), other)
    sql = "SELECT view_id, image_format, image_quality, image_bytes FROM views ORDER BY view_id"
    png_rows = open_store(png_store).query(sql).to_pylist()
    rows = open_store(other).query(sql).to_pylist()
    assert [r["view_id"] for r in rows] == [r["view_id"] for r in png_rows] and rows
    assert {(r["image_format"], r["image_quality"]) for r in rows} == {(fmt, quality)}
    for row, ref in zip(rows, png_rows, strict=True):
        assert decode_rgb(row["image_bytes"]).shape == decode_rgb(ref["image_bytes"]).shape
        assert (row["image_bytes"] == ref["image_bytes"]) == (fmt == "png")


@pytest.mark.parametrize(
    "override",
    [
        "store.image_format=jpeg",
        "store.image_format=webp",
        "store.quality=80",
        "negatives=[{strategy: masked}, {strategy: cross_image, pool: POOL, pool_images: 8}]",
        "negatives=[{strategy: masked}, {strategy: cross_image, pool: POOL, pool_max_side: 512}]",
    ],
)
def test_encoding_and_pool_settings_change_the_config_hash(scenes, override):
    # The pool is hashed by its content, so it must be a real folder of images.
    pool = f"'{scenes / 'images'}'"
    negatives = f"negatives=[{{strategy: masked}}, {{strategy: cross_image, pool: {pool}}}]"
    override = override.replace("POOL", pool)
    assert config_hash(_recipe(scenes, negatives, override)) != config_hash(_recipe(scenes, negatives))
