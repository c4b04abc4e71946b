import json
from collections import Counter
from pathlib import Path

import pytest

from vzero_core.recipe_base import apply_overrides
from vzero_core.sample import image_digest, make_sample_id
from vzero_data.grounding.backends.annotated import AnnotatedGrounder, AnnotatedOptions
from vzero_data.grounding.registry import GROUNDERS
from vzero_data.pipeline import recipe_from_mapping
from vzero_data.pipeline.runner import curate
from vzero_data.pipeline.sharding import ShardSpec, shard_of
from vzero_data.store import open_store

from .conftest import N_ROWS, N_SCENES, recipe_data, snapshot, write_test_scenes

pytestmark = pytest.mark.e2e


def test_run_keeps_good_samples_and_records_bad_rows(make_recipe, tmp_path):
    outcome = curate(make_recipe(), tmp_path / "store")
    s = outcome.summary
    assert not outcome.nothing_to_do
    assert (s.kept, s.processed) == (N_SCENES, N_ROWS)
    assert s.rejected == Counter({("ingest", "image_missing"): 1, ("grounding", "no_box"): 1})
    rows = snapshot(tmp_path / "store")
    assert len(rows["samples"]) == N_SCENES
    assert len({r["sample_id"] for r in rows["samples"]}) == N_SCENES
    # positive + downsampled_distractor + masked + 2 shuffled + cross_image per kept sample
    per_sample = Counter(r["sample_id"] for r in rows["views"])
    assert set(per_sample.values()) == {6}
    strategies = Counter(r["strategy"] for r in rows["views"])
    assert strategies["shuffled"] == 2 * N_SCENES and strategies["crop"] == N_SCENES
    assert {r["reason"] for r in rows["rejects"]} == {"image_missing", "no_box"}
    assert all(r["selected"] for r in rows["regions"])
    assert len(rows["images"]) == N_SCENES  # the full images training reads


def test_second_run_does_nothing_and_changes_nothing(make_recipe, tmp_path):
    curate(make_recipe(), tmp_path / "store")
    before = snapshot(tmp_path / "store")
    again = curate(make_recipe("execution.workers=1"), tmp_path / "store")
    assert again.nothing_to_do and again.already_curated == N_ROWS
    assert snapshot(tmp_path / "store") == before


def test_same_recipe_same_rows_in_a_new_store(make_recipe, tmp_path):
    curate(make_recipe(), tmp_path / "a")
    curate(make_recipe(), tmp_path / "b")
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_changed_recipe_gets_its_own_results(make_recipe, tmp_path):
    first = curate(make_recipe(), tmp_path / "store").summary
    second = curate(make_recipe("crop.margin_ratio=1.0"), tmp_path / "store").summary
    assert first.config_hash != second.config_hash
    assert second.processed == N_ROWS  # nothing reused from the other config
    rows = snapshot(tmp_path / "store")
    assert Counter(r["config_hash"] for r in rows["samples"]) == {
        first.config_hash: N_SCENES,
        second.config_hash: N_SCENES,
    }


def test_limit_then_full_run_completes_the_rest(make_recipe, tmp_path):
    part = curate(make_recipe("execution.limit=3"), tmp_path / "store").summary
    assert part.processed == 3
    rest = curate(make_recipe(), tmp_path / "store").summary
    assert (rest.already_done, rest.processed) == (3, N_ROWS - 3)
    curate(make_recipe(), tmp_path / "full")
    assert snapshot(tmp_path / "store") == snapshot(tmp_path / "full")


def test_shards_together_equal_one_full_run(make_recipe, tmp_path):
    counts = [curate(make_recipe(), tmp_path / "sharded", shard=ShardSpec(i, 2)).summary for i in range(2)]
    assert sum(s.processed for s in counts) == N_ROWS
    assert all(s.processed > 0 for s in counts)
    curate(make_recipe(), tmp_path / "full")
    assert snapshot(tmp_path / "sharded") == snapshot(tmp_path / "full")


def test_a_repeated_source_row_is_recorded_once_across_shards(tmp_path):
    scenes = write_test_scenes(tmp_path / "scenes")
    manifest = scenes / "manifest.jsonl"
    first = json.loads(manifest.read_text().splitlines()[0])
    sample_shard = shard_of(
        make_sample_id(image_digest((scenes / first["image"]).read_bytes()), first["question"]), 2
    )
    # The repeat's reject is keyed by its id: pick one that hashes to the other shard than the sample.
    dup_id = next(f"repeat-{i}" for i in range(100) if shard_of(f"repeat-{i}", 2) != sample_shard)
    with open(manifest, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({**first, "id": dup_id}) + "\n")
    recipe = recipe_from_mapping(recipe_data(scenes), "test.yaml")
    summaries = [curate(recipe, tmp_path / "store", shard=ShardSpec(i, 2)).summary for i in range(2)]
    assert sum(s.duplicates for s in summaries) == 1
    assert sum(s.processed for s in summaries) == N_ROWS + 1
    rejects = open_store(tmp_path / "store").query(
        "SELECT sample_id FROM rejects WHERE reason = 'duplicate_sample'"
    )
    assert rejects.column("sample_id").to_pylist() == [dup_id]


def test_partial_negatives_kept_when_allowed(make_recipe, tmp_path):
    # random_positive with an impossible min_side can never make its view.
    strict = curate(
        make_recipe(
            "negatives=[{strategy: masked}, {strategy: random_positive, params: {min_side: 100000}}]"
        ),
        tmp_path / "strict",
    ).summary
    assert strict.kept == 0 and strict.rejected[("views", "degenerate_view")] == N_SCENES
    lenient = curate(
        make_recipe(
            "negatives=[{strategy: masked}, {strategy: random_positive, params: {min_side: 100000}}]",
            "checks.require_all_negatives=false",
        ),
        tmp_path / "lenient",
    ).summary
    assert lenient.kept == N_SCENES and lenient.dropped[("views", "degenerate_view")] == N_SCENES
    rows = snapshot(tmp_path / "lenient")
    assert Counter(r["strategy"] for r in rows["views"]) == {"crop": N_SCENES, "masked": N_SCENES}
    assert sum(r["reason"] == "degenerate_view" for r in rows["rejects"]) == N_SCENES


@pytest.mark.e2e
def test_worker_count_does_not_change_rows(make_recipe, tmp_path):
    curate(make_recipe("execution.workers=0"), tmp_path / "w0")
    curate(make_recipe("execution.workers=2", "execution.samples_per_task=1"), tmp_path / "w2")
    assert snapshot(tmp_path / "w0") == snapshot(tmp_path / "w2")


class _UnloadableGrounder:
    """A grounder whose model cannot be loaded (weights missing, no network, no such device)."""

    name = "unloadable"

    class Options(AnnotatedOptions):
        pass

    def __init__(self, options) -> None:
        raise OSError("model weights not found offline")


def test_a_grounder_that_cannot_load_fails_the_run_instead_of_rejecting_every_sample(
    make_recipe, tmp_path, monkeypatch
):
    monkeypatch.setitem(GROUNDERS, "unloadable", _UnloadableGrounder)
    with pytest.raises(OSError, match="weights not found"):
        curate(make_recipe("grounding.backend=unloadable"), tmp_path / "store")
    store = open_store(tmp_path / "store")
    # Nothing is marked done: once the model is available, the same recipe curates every sample.
    assert store.query("SELECT count(*) AS n FROM rejects WHERE stage = 'grounding'").to_pylist() == [
        {"n": 0}
    ]
    assert store.query("SELECT status FROM runs").to_pylist() == [{"status": "failed"}]
    monkeypatch.setitem(GROUNDERS, "unloadable", AnnotatedGrounder)
    assert curate(make_recipe("grounding.backend=unloadable"), tmp_path / "store").summary.kept == N_SCENES


def test_mode_all_rejects_boxes_whose_union_is_not_fine_grained(tmp_path):
    """Each of two far-apart boxes passes the area cap alone; their union, which the views cut, does not."""
    import json

    from vzero_data.pipeline import recipe_from_mapping
    from vzero_data.pipeline.runner import curate
    from vzero_data.store import open_store
    from vzero_data.synth import write_scenes

    write_scenes(tmp_path / "src", 2, size=256, seed=5, progress=False)
    rows = [json.loads(line) for line in (tmp_path / "src" / "manifest.jsonl").read_text().splitlines()]
    rows[0]["bbox"] = [[4, 4, 40, 40], [200, 200, 240, 240]]  # far apart: union covers ~75% of the image
    rows[1]["bbox"] = [[4, 4, 40, 40], [44, 4, 80, 40]]  # close together: union stays small
    (tmp_path / "src" / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe = recipe_from_mapping(
        {
            "name": "all",
            "source": {"adapter": "jsonl", "path": str(tmp_path / "src" / "manifest.jsonl")},
            "grounding": {"backend": "annotated", "selection": {"mode": "all", "max_area_ratio": 0.1}},
            "negatives": [{"strategy": "distractor"}],
            "execution": {"workers": 0, "progress": False},
        },
        "all.yaml",
    )
    curate(recipe, tmp_path / "store")
    store = open_store(tmp_path / "store")
    rejects = store.query("SELECT sample_id, reason, detail FROM rejects").to_pylist()
    assert len(rejects) == 1 and rejects[0]["reason"] == "box_too_large"
    assert "2 selected boxes together" in rejects[0]["detail"]
    positives = store.query("SELECT box FROM views WHERE kind = 'positive'").to_pylist()
    assert len(positives) == 1


def _scenes_with_repeats(tmp_path):
    """The fixture's scenes plus two repeated rows: one repeats the first row, one the fourth."""
    scenes = write_test_scenes(tmp_path / "scenes")
    manifest = scenes / "manifest.jsonl"
    rows = [json.loads(line) for line in manifest.read_text().splitlines()]
    with open(manifest, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({**rows[0], "id": "repeat-of-first"}) + "\n")
        fh.write(json.dumps({**rows[3], "id": "repeat-of-fourth"}) + "\n")
    return scenes, len(rows) + 2


@pytest.mark.parametrize("stops", [(2, 5), (4, 9, 11)])
def test_interrupted_runs_record_every_reject_an_uninterrupted_run_records(tmp_path, stops):
    """Each ``limit`` run stands for a run killed after committing that many source rows; the
    repeats' originals fall in earlier runs than the repeats themselves."""
    scenes, n_rows = _scenes_with_repeats(tmp_path)
    data = recipe_data(scenes)
    recipe = recipe_from_mapping(data, "test.yaml")
    full = curate(recipe, tmp_path / "full").summary
    assert full.duplicates == 2
    for stop in stops:
        limited = recipe_from_mapping(apply_overrides(data, [f"execution.limit={stop}"]), "test.yaml")
        curate(limited, tmp_path / "resumed")
    curate(recipe, tmp_path / "resumed")
    resumed = snapshot(tmp_path / "resumed")
    assert resumed == snapshot(tmp_path / "full")
    assert Counter(r["reason"] for r in resumed["rejects"]) == {
        "duplicate_sample": 2,
        "image_missing": 1,
        "no_box": 1,
    }
    assert len(resumed["samples"]) + len(resumed["rejects"]) == n_rows


def test_the_source_location_is_not_part_of_the_hash(tmp_path, monkeypatch):
    """The same data by an absolute path, a relative path and from a copied folder: one config
    hash, and the second and third runs find nothing to do."""
    import shutil

    scenes = write_test_scenes(tmp_path / "scenes")
    with open(scenes / "manifest.jsonl", "a", encoding="utf-8") as fh:
        fh.write("{not json\n")  # a reject with no id: keyed by its place in the source
    copy = shutil.copytree(scenes, tmp_path / "elsewhere" / "copy")
    monkeypatch.chdir(tmp_path)
    spellings = [str(scenes.resolve()), "scenes", str(copy)]
    outcomes = [
        curate(recipe_from_mapping(recipe_data(Path(path)), "test.yaml"), tmp_path / "store")
        for path in spellings
    ]
    assert len({o.summary.config_hash for o in outcomes}) == 1
    assert [o.nothing_to_do for o in outcomes] == [False, True, True]
    curate(recipe_from_mapping(recipe_data(scenes), "test.yaml"), tmp_path / "one")
    assert snapshot(tmp_path / "store") == snapshot(tmp_path / "one")
    keys = open_store(tmp_path / "store").query(
        "SELECT sample_id FROM rejects WHERE reason = 'malformed_row'"
    )
    assert keys.column("sample_id").to_pylist() == ["manifest.jsonl:11"]


def test_images_under_a_remote_root_curate_to_the_same_rows(make_recipe, scenes, tmp_path):
    """The source's images copied to object storage (fsspec's memory:// here) and read through
    ``source.image_root``: the same samples and views as from the folder, keyed by content; the
    missing image is an ``image_unreachable`` reject instead of ``image_missing``."""
    import uuid

    import fsspec

    root = f"memory://pool-{uuid.uuid4().hex[:8]}"
    memory = fsspec.filesystem("memory")
    for image in (scenes / "images").iterdir():
        memory.pipe_file(f"{root.removeprefix('memory:/')}/images/{image.name}", image.read_bytes())
    cache = f"execution.fetch.cache_dir={tmp_path / 'cache'}"
    remote = curate(make_recipe(f"source.image_root={root}", cache), tmp_path / "remote")
    local = curate(make_recipe(), tmp_path / "local")
    assert remote.summary.config_hash == local.summary.config_hash  # where images live is not hashed
    assert remote.summary.rejected == Counter(
        {("ingest", "image_unreachable"): 1, ("grounding", "no_box"): 1}
    )
    a, b = snapshot(tmp_path / "remote"), snapshot(tmp_path / "local")
    for table in ("images", "regions", "views"):
        assert a[table] == b[table]
    assert [r["sample_id"] for r in a["samples"]] == [r["sample_id"] for r in b["samples"]]
    (unreachable,) = [r for r in a["rejects"] if r["reason"] == "image_unreachable"]
    assert f"cannot fetch {root}/images/nope.png: not found (1 attempt)" in unreachable["detail"]
