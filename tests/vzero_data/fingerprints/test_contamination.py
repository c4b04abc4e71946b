"""Contamination of a store by a V*-layout benchmark: every planted copy found with its kind."""

import json

import numpy as np
import pytest

from tests.near_duplicates import (
    REGION_SOURCE_SIZE,
    cropped,
    curated_store,
    grounded,
    jittered,
    jpeg,
    photo,
    region_crop,
    resized,
    scene,
    write_vstar,
)
from vzero_data.fingerprints.cache import FingerprintCache
from vzero_data.fingerprints.contamination import contamination
from vzero_data.fingerprints.pictures import MissingFingerprints
from vzero_data.fingerprints.report import write_reports

pytestmark = pytest.mark.e2e  # a benchmark of 2246x1582 photos fingerprinted and searched: ~30 s

# planted training image -> (benchmark item, the kind it must be reported as)
PLANTED = {
    "half_sa0": ("direct_attributes/sa_0", "near_duplicate_image"),
    "jpeg_scene0": ("direct_attributes/scene_0", "near_duplicate_image"),
    "crop10_sa1": ("direct_attributes/sa_1", "near_duplicate_image"),
    "jitter_scene1": ("direct_attributes/scene_1", "near_duplicate_image"),
    "region_sa1": ("direct_attributes/sa_1", "training_crop_in_benchmark"),
    "exact_sa0": ("direct_attributes/sa_0", "exact_bytes"),
}
UNRELATED = ("other_photo", "other_scene")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("contamination")
    rng = np.random.default_rng(7)
    bench = {f"sa_{i}": photo(100 + i, REGION_SOURCE_SIZE) for i in range(2)}
    bench.update({f"scene_{i}": scene(8, i, 768) for i in range(2)})
    boxes = {name: [700.0, 500.0, 760.0, 560.0] for name in bench}
    vstar = write_vstar(root / "vstar", bench, boxes)
    region, _ = region_crop(bench["sa_1"], rng)
    items = [
        grounded("half_sa0", resized(bench["sa_0"], 0.5)),
        grounded("jpeg_scene0", jpeg(bench["scene_0"])),
        grounded("crop10_sa1", cropped(bench["sa_1"], 0.08, rng)),
        grounded("jitter_scene1", jittered(bench["scene_1"], rng)),
        grounded("region_sa1", jpeg(region)),
        grounded("other_photo", photo(999)),
        grounded("other_scene", scene(9, 3, 768)),
    ]
    store, results = curated_store(root / "store", items)
    assert all(r.kept for r in results)
    # the benchmark file itself, byte for byte, as a training image
    exact = (vstar / "direct_attributes" / "sa_0.jpg").read_bytes()
    item = grounded("exact_sa0", bench["sa_0"])
    from dataclasses import replace

    from vzero_core.sample import image_digest, make_sample_id

    sha = image_digest(exact)
    sample = replace(item.sample, image_sha256=sha, sample_id=make_sample_id(sha, item.sample.question))
    curated_store(root / "store", [replace(item, sample=sample, image_bytes=exact)])
    names = {
        r["sample_id"]: json.loads(r["metadata"])["name"]
        for r in store.query("SELECT * FROM samples").to_pylist()
    }
    return root, store, str(vstar), names


@pytest.fixture(scope="module")
def report(world, tmp_path_factory):
    _, store, vstar, _ = world
    return contamination(store, [vstar], cache=FingerprintCache(tmp_path_factory.mktemp("cache")))


def by_training(report, names):
    out = {}
    for f in report.findings:
        for sid in f.sample_ids:
            out.setdefault(names[sid], set()).add(
                (f.item_ids[0] if len(f.item_ids) == 1 else tuple(f.item_ids), f.kind)
            )
    return out


def test_every_planted_copy_is_found_with_its_kind_and_nothing_unrelated(world, report):
    _, _, _, names = world
    found = by_training(report, names)
    for name, (item, kind) in PLANTED.items():
        assert (item, kind) in found.get(name, set()), (name, found.get(name))
    assert not set(UNRELATED) & set(found)


def test_crops_of_a_contaminated_image_are_placed_in_the_benchmark(world, report):
    _, _, _, names = world
    crops = [f for f in report.findings if f.kind == "training_crop_in_benchmark" and f.view_id]
    assert {names[f.sample_ids[0]] for f in crops} >= {"half_sa0", "jpeg_scene0", "crop10_sa1", "region_sa1"}
    half = next(f for f in crops if names[f.sample_ids[0]] == "half_sa0")
    # the half-size copy's crop lies at twice its coordinates in the benchmark image
    assert half.benchmark_box == pytest.approx([2 * v for v in half.training_box], abs=2)


def test_benchmark_targets_are_placed_in_contaminated_training_images(world, report):
    _, _, _, names = world
    targets = {
        names[s] for f in report.findings if f.kind == "benchmark_region_in_training" for s in f.sample_ids
    }
    assert {"half_sa0", "jpeg_scene0", "crop10_sa1", "jitter_scene1"} <= targets


def test_reports_are_written_and_the_page_shows_each_pair(world, report, tmp_path):
    _, store, _, _ = world
    written = write_reports(report, tmp_path / "out", ["md", "json", "html"], store)
    assert [p.name for p in written] == ["report.json", "report.md", "report.html"]
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert data["counts"]["vstar"]["exact_bytes"] == 1 and len(data["findings"]) == len(report.findings)
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count('class="card') == len(report.findings)
    assert page.count("data:image/jpeg;base64,") == 2 * len(report.findings)
    assert "## training_crop_in_benchmark" in (tmp_path / "out" / "report.md").read_text()


def test_benchmark_fingerprints_are_cached_by_image_hash(world, tmp_path):
    _, store, vstar, _ = world
    cache = FingerprintCache(tmp_path / "cache")
    contamination(store, [vstar], cache=cache, regions=False)
    assert cache.misses > 0 and cache.hits == 0
    again = FingerprintCache(tmp_path / "cache")
    contamination(store, [vstar], cache=again, regions=False)
    assert again.misses == 0 and again.hits == cache.misses


def test_a_store_without_fingerprints_is_refused_until_backfilled(tmp_path, world):
    """A store written before fingerprints existed: readers see an empty table, the check names the
    command that fills it, and after it the check runs."""
    from tests.near_duplicates import encoded
    from tests.store_builder import add_sample
    from vzero_data.fingerprints.backfill import backfill
    from vzero_data.store import open_store

    _, _, vstar, _ = world
    store = open_store(tmp_path / "old", create=True)
    for old in (tmp_path / "old" / "shards").glob("*/fingerprints.parquet"):
        old.unlink()  # the layout before the fingerprints table existed
    store.rebuild_catalog()
    with store.writer("old-run", "ingest") as w:
        add_sample(w, "s1", encoded(photo(5)), question="q")
        w.commit_sample("s1")
    with pytest.raises(MissingFingerprints, match="run `vzero-data fingerprint"):
        contamination(store, [vstar], regions=False)
    summary = backfill(store)
    assert (summary.images, summary.crops) == (1, 0)
    assert backfill(store).images == 0  # nothing left to do
    assert contamination(store, [vstar], regions=False).findings == []


def test_a_benchmark_image_that_does_not_decode_is_skipped_with_its_reason(world, tmp_path):
    """A plain folder holding a truncated JPEG and a good copy of a benchmark image: the good one is
    still found, the broken one is reported as skipped, nothing crashes."""
    import shutil

    _, store, vstar, names = world
    folder = tmp_path / "imgs"
    folder.mkdir()
    good = folder / "copy.jpg"
    shutil.copy(f"{vstar}/direct_attributes/scene_0.jpg", good)
    (folder / "broken.jpg").write_bytes(good.read_bytes()[:200])
    report = contamination(store, [str(folder)], regions=False, cache=FingerprintCache(tmp_path / "cache"))
    skipped = report.benchmarks[0]["skipped"]
    assert [s["item_id"] for s in skipped] == ["broken.jpg"] and "does not decode" in skipped[0]["reason"]
    assert {names[s] for f in report.findings for s in f.sample_ids if f.item_ids == ["copy.jpg"]} >= {
        "jpeg_scene0"
    }
