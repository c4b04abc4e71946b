"""Curation pays each cost once: one decode per source image (in the view stage, which also
validates it), one digest per view, and a corrupt image is a located reject, not a crash."""

import pytest

from tests.vzero_data.pipeline.conftest import N_SCENES, recipe_data, write_test_scenes
from vzero_data.pipeline import checks, recipe_from_mapping, stages
from vzero_data.pipeline.runner import curate
from vzero_data.pipeline.stages.pool import image_pool
from vzero_data.sources import build
from vzero_data.store import open_store
from vzero_data.views import encoding, pool, view

pytestmark = pytest.mark.e2e


def _counting(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def _refuse(monkeypatch, module, name, why):
    def refused(*args, **kwargs):
        raise AssertionError(why)

    monkeypatch.setattr(module, name, refused)


def _grounded(recipe, plan):
    """The grounded samples the runner hands its view workers."""
    from vzero_data.pipeline.progress import StageBars
    from vzero_data.pipeline.summary import RunSummary
    from vzero_data.sources import SourceItem

    built = stages.build_source_items(recipe, stages.open_source(recipe))
    items = [item for item in built if isinstance(item, SourceItem)]
    with StageBars(False, None) as bars:
        return list(stages.ground_stream(items, plan.make_grounding(), 4, RunSummary("test"), bars))


def _no_pool(scenes, *overrides):
    data = recipe_data(scenes, *overrides)
    data["negatives"] = [n for n in data["negatives"] if n["strategy"] != "cross_image"]
    return recipe_from_mapping(data, "test.yaml")


def test_each_source_image_is_decoded_once_and_only_in_the_view_stage(scenes, tmp_path, monkeypatch):
    _refuse(monkeypatch, build, "decode_image", "the source must read headers only")
    decodes = _counting(monkeypatch, encoding, "decode_rgb")
    outcome = curate(_no_pool(scenes), tmp_path / "store")
    assert outcome.summary.kept == N_SCENES
    assert len(decodes) == N_SCENES


def test_each_view_is_hashed_once(scenes, tmp_path, monkeypatch):
    digests = _counting(monkeypatch, view, "pixels_digest")
    _refuse(monkeypatch, checks, "pixels_digest", "a View's key is its cached digest")
    curate(_no_pool(scenes), tmp_path / "store")
    (n_views,) = open_store(tmp_path / "store").query("SELECT count(*) AS n FROM views")["n"].to_pylist()
    assert n_views > 0 and len(digests) == n_views


def test_a_pool_image_is_decoded_once_per_worker_however_often_it_is_drawn(scenes, tmp_path, monkeypatch):
    image_pool.cache_clear()  # a fresh pool, as a new worker has
    decodes = _counting(monkeypatch, encoding, "decode_rgb")
    pool_decodes = _counting(monkeypatch, pool, "decode_rgb")
    recipe = recipe_from_mapping(
        recipe_data(scenes, "negatives=[{strategy: cross_image, count: 3, pool: %s}]" % (scenes / "images")),
        "test.yaml",
    )
    outcome = curate(recipe, tmp_path / "store")
    image_pool.cache_clear()
    assert outcome.summary.kept == N_SCENES
    # 8 samples x 3 draws = 24 draws over 8 pool images: each decoded at most once.
    assert len(decodes) == N_SCENES and 0 < len(pool_decodes) <= N_SCENES
    assert len({a[1] for a in pool_decodes}) == len(pool_decodes)


@pytest.mark.parametrize("workers", [0, 1])
def test_an_image_whose_data_is_corrupt_is_an_ingest_reject_naming_it(tmp_path, workers):
    scenes = write_test_scenes(tmp_path / "scenes")
    victim = sorted((scenes / "images").glob("*.png"))[0]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # header intact: only decoding finds it
    recipe = _no_pool(scenes, f"execution.workers={workers}")
    outcome = curate(recipe, tmp_path / "store")
    store = open_store(tmp_path / "store")
    rejects = store.query("SELECT stage, reason, detail FROM rejects WHERE reason = 'image_unreadable'")
    assert rejects["stage"].to_pylist() == ["ingest"]
    assert victim.name in rejects["detail"][0].as_py()
    assert outcome.summary.kept == N_SCENES - 1


def test_a_worker_sends_no_source_image_back_and_the_store_keeps_the_files_bytes(scenes, tmp_path):
    import hashlib
    from pathlib import Path

    from vzero_data.pipeline.stages import StagePlan, build_views_chunk

    recipe = _no_pool(scenes, "execution.workers=1")
    outcome = curate(recipe, tmp_path / "store")
    assert outcome.summary.kept == N_SCENES
    stored = open_store(tmp_path / "store").query("SELECT sha256, bytes FROM images ORDER BY sha256")
    files = sorted(
        (hashlib.sha256(b).hexdigest(), b) for b in map(Path.read_bytes, scenes.glob("images/*.png"))
    )
    assert list(zip(stored["sha256"].to_pylist(), stored["bytes"].to_pylist(), strict=True)) == files

    plan = StagePlan(recipe)
    grounded = [g for g in _grounded(recipe, plan) if isinstance(g, stages.Grounded)]
    sent_back = build_views_chunk(grounded, plan, keep_image=False)
    assert len(grounded) == N_SCENES and all(r.kept and r.image is None for r in sent_back)
    in_process = build_views_chunk(grounded, plan)
    assert [r.image.data for r in in_process] == [g.image_bytes for g in grounded]
