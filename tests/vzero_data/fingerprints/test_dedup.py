"""``vzero-data dedup``: clusters, the keep policy, removals recorded and honoured by readers."""

import numpy as np
import pytest

from tests.near_duplicates import cropped, curated_store, grounded, jpeg, resized
from vzero_data.fingerprints.dedup import DEDUP_REASON, DEDUP_STAGE, find_clusters, record_removals

pytestmark = pytest.mark.e2e  # six photos curated, fingerprinted and searched for each test: ~25 s

Q = "What colour is the thing in the middle?"


@pytest.fixture(scope="module")
def built(tmp_path_factory, photos):
    rng = np.random.default_rng(0)
    a, b = photos[0], photos[1]
    items = [
        grounded("a", a, question=Q),
        grounded("a_jpeg", jpeg(a), question=Q),  # same question, re-encoded copy
        grounded(
            "a_crop", cropped(a, 0.15, rng), question=Q
        ),  # same question, cropped beyond what pHash survives
        grounded("a_big", resized(a, 1.5), question=Q.upper() + "  "),  # same question up to case and spaces
        grounded("a_other_question", jpeg(a, 80), question="How many things are there?"),
        grounded("b", b, question=Q),  # another photo, same question
    ]
    root = tmp_path_factory.mktemp("dedup") / "store"
    _, results = curated_store(root, items)
    assert all(r.kept for r in results)
    return root


@pytest.fixture()
def store(built, tmp_path):
    """A fresh copy of the built store for each test (some write removals)."""
    import shutil

    from vzero_data.store import open_store

    return open_store(shutil.copytree(built, tmp_path / "store"))


def names(store):
    import json

    return {
        r["sample_id"]: json.loads(r["metadata"])["name"]
        for r in store.query("SELECT * FROM samples").to_pylist()
    }


def clusters_by_name(store, **kw):
    n = names(store)
    return [
        (n[c.kept], sorted(n[r.sample_id] for r in c.removed)) for c in find_clusters(store, **kw).clusters
    ]


def test_same_question_on_near_duplicate_images_is_one_cluster_keeping_the_first(store):
    assert clusters_by_name(store) == [("a", ["a_big", "a_crop", "a_jpeg"])]


def test_keep_largest_keeps_the_biggest_image(store):
    assert clusters_by_name(store, keep="largest") == [("a_big", ["a", "a_crop", "a_jpeg"])]


def test_any_question_merges_every_question_on_the_picture(store):
    assert clusters_by_name(store, any_question=True) == [
        ("a", ["a_big", "a_crop", "a_jpeg", "a_other_question"])
    ]


def test_without_regions_the_cropped_copy_is_not_an_image_match(store):
    """Break on purpose: whole-image hashes alone do not pair an image with its cropped copy (the
    clusters may still join them through their positive crops' hashes)."""
    from vzero_data.fingerprints.pictures import store_pictures
    from vzero_data.fingerprints.search import find_matches

    n = names(store)
    images, _ = store_pictures(store)

    def pairs(regions):
        found = set()
        for m in find_matches(images, images, same_set=True, regions=regions):
            found |= {
                frozenset((n[a], n[b]))
                for a in images[m.query].key.sample_ids
                for b in images[m.target].key.sample_ids
            }
        return found

    assert frozenset(("a", "a_crop")) in pairs(True)
    assert frozenset(("a", "a_crop")) not in pairs(False)


def test_removals_are_rejects_naming_the_kept_sample_and_readers_skip_them(store):
    from vzero_data.store.records import RecordCounts

    n = names(store)
    result = record_removals(store, find_clusters(store), settings={"distance": 10})
    rows = store.query("SELECT * FROM rejects WHERE stage = ?", [DEDUP_STAGE]).to_pylist()
    kept = next(s for s, name in n.items() if name == "a")
    assert sorted(n[r["sample_id"]] for r in rows) == ["a_big", "a_crop", "a_jpeg"]
    assert all(r["reason"] == DEDUP_REASON and f"kept sample {kept}" in r["detail"] for r in rows)
    assert all(r["config_hash"] == "cfg" and r["run_id"] == result.run_id for r in rows)
    counts = RecordCounts()
    records = list(store.iter_training_records(counts=counts))
    assert sorted(n[r.sample_id] for r in records) == ["a", "a_other_question", "b"]
    assert counts.removed_duplicate == 3
    # a rerun finds nothing new
    assert find_clusters(store).clusters == []
    assert store.query("SELECT status FROM runs WHERE run_id = ?", [result.run_id]).to_pylist() == [
        {"status": "finished"}
    ]


def test_an_unrelated_photo_with_the_same_question_is_not_a_duplicate(store):
    n = names(store)
    members = {name for kept, removed in clusters_by_name(store) for name in [kept, *removed]}
    assert "b" not in members and "b" in n.values()


def test_unknown_keep_policy():
    with pytest.raises(ValueError, match="keep must be one of"):
        find_clusters(None, keep="random")
