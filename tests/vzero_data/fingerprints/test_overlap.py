"""``checks.benchmark_overlap`` in the view stage: overlapping samples rejected (or flagged) naming
the benchmark item; others kept; the benchmark fingerprinted once."""

import numpy as np
import pytest

from tests.near_duplicates import (
    curated_store,
    fixture_recipe,
    grounded,
    jpeg,
    photo,
    region_crop,
    write_vstar,
)
from vzero_data.pipeline.stages import build_views

pytestmark = pytest.mark.e2e  # benchmark photos fingerprinted and searched per sample: ~20 s


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("overlap")
    images = {"sa_0": photo(300, (1600, 1100)), "sa_1": photo(301, (1600, 1100))}
    return str(write_vstar(root / "vstar", images)), images


def test_a_copy_of_a_benchmark_image_is_rejected_naming_the_item(bench):
    vstar, images = bench
    recipe = fixture_recipe(benchmark_overlap={"against": [vstar]})
    result = build_views(grounded("copy", jpeg(images["sa_1"])), recipe)
    assert result.reject is not None and result.reject.reason == "benchmark_overlap"
    assert result.reject.stage == "checks"
    assert "near_duplicate_image: benchmark vstar item direct_attributes/sa_1" in result.reject.detail


def test_a_region_crop_of_a_benchmark_image_is_rejected(bench):
    vstar, images = bench
    crop, _ = region_crop(images["sa_0"], np.random.default_rng(1), window=400)
    result = build_views(
        grounded("region", jpeg(crop)), fixture_recipe(benchmark_overlap={"against": [vstar]})
    )
    assert result.reject is not None and "training_crop_in_benchmark" in result.reject.detail
    assert "direct_attributes/sa_0" in result.reject.detail


def test_region_matching_off_lets_the_region_crop_through(bench):
    """Break on purpose: with ``regions: false`` only whole-image copies are caught."""
    vstar, images = bench
    crop, _ = region_crop(images["sa_0"], np.random.default_rng(1), window=400)
    recipe = fixture_recipe(benchmark_overlap={"against": [vstar], "regions": False})
    assert build_views(grounded("region", jpeg(crop)), recipe).kept


def test_an_unrelated_sample_is_kept_with_its_fingerprints(bench):
    vstar, _ = bench
    result = build_views(
        grounded("other", photo(302)), fixture_recipe(benchmark_overlap={"against": [vstar]})
    )
    assert result.kept and [r["subject"] for r in result.fingerprints] == ["image", "view"]


def test_flag_keeps_the_sample_and_records_the_overlap(bench, tmp_path):
    vstar, images = bench
    recipe = fixture_recipe(benchmark_overlap={"against": [vstar], "action": "flag"})
    store, results = curated_store(tmp_path / "store", [grounded("copy", jpeg(images["sa_0"]))], recipe)
    assert results[0].kept
    rows = store.query("SELECT reason, detail FROM rejects").to_pylist()
    assert [r["reason"] for r in rows] == ["benchmark_overlap"] and "direct_attributes/sa_0" in rows[0][
        "detail"
    ]
    assert store.query("SELECT count(*) AS n FROM samples").to_pylist() == [{"n": 1}]


def test_the_config_hash_follows_the_benchmarks_content_not_their_place(bench, tmp_path):
    import shutil

    from vzero_data.pipeline.config_hash import config_hash

    vstar, _ = bench
    moved = shutil.copytree(vstar, tmp_path / "elsewhere")
    with_bench = config_hash(fixture_recipe(benchmark_overlap={"against": [vstar]}))
    assert config_hash(fixture_recipe(benchmark_overlap={"against": [str(moved)]})) == with_bench
    assert with_bench != config_hash(fixture_recipe())
    (moved / "direct_attributes" / "sa_0.jpg").write_bytes(
        (moved / "direct_attributes" / "sa_1.jpg").read_bytes()
    )
    assert config_hash(fixture_recipe(benchmark_overlap={"against": [str(moved)]})) != with_bench
