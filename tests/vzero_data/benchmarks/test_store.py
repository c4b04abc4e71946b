import os

import pyarrow.parquet as pq
import pytest

from tests.store_builder import add_sample, png
from vzero_data.benchmarks import open_benchmark
from vzero_data.benchmarks import store as store_adapter
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped
from vzero_data.store import open_store


def _sample(w, sample_id, image, answer, options=None, metadata=None, source="synthetic", **kw):
    add_sample(
        w, sample_id, image, question="What colour?", answer=answer, options=options,
        metadata=metadata or {}, source=source, **kw,
    )  # fmt: skip
    w.commit_sample(sample_id)


@pytest.fixture
def store(tmp_path):
    red, blue = png("red"), png("blue", size=(6, 4))
    root = tmp_path / "store"
    store = open_store(root, create=True)
    first, again = store.writer("r1", "c1"), store.writer("r2", "c2")
    with first:
        _sample(first, "s1", red, "red", ["blue", "red"], {"kind": "color"})
        _sample(first, "s2", blue, "B", ["x", "y"], {"category": "letters"})
        _sample(first, "s3", blue, "4", source="counting")
        _sample(first, "s4", red, None, ["red", "blue"])
        _sample(first, "s5", None, "red", ["red", "blue"], image_sha256="0" * 64)
    # the same sample curated again under another config, and (a writer racing the first) the same
    # image stored again
    with again:
        _sample(again, "s1", red, "red", ["blue", "red"], {"kind": "color"})
    raw_images = pq.ParquetDataset(sorted(root.glob("shards/*/images.parquet"))).read()
    assert raw_images.num_rows == 2  # the second writer's commit skips the image already stored
    # a batch still being written (staged, not yet renamed into shards/) is invisible
    with store.writer("r3", "c3") as w:
        _sample(w, "s9", red, "red", ["blue", "red"])
    (staged := root / ".staging").mkdir(exist_ok=True)
    os.rename(w.batches_written[0], staged / w.batches_written[0].name)
    return root


def test_store_samples_become_items_once_each(store, monkeypatch):
    monkeypatch.setattr(store_adapter, "CHUNK", 2)  # several image look-ups
    bench = open_benchmark(store)
    assert (bench.name, bench.format) == ("store", "store")
    entries = list(bench.items())
    items = {e.item_id: e for e in entries if isinstance(e, EvalItem)}
    assert sorted(items) == ["s1", "s2", "s3"]
    assert (items["s1"].answer_text, items["s1"].category) == ("red", "color")
    assert (items["s2"].answer_text, items["s2"].category) == ("y", "letters")  # stored answer "B" = "y"
    assert sorted(items["s1"].options) == ["blue", "red"]
    assert (items["s3"].options, items["s3"].answer, items["s3"].category) == ((), "4", "counting")
    assert items["s1"].load_image().size == (12, 8) and items["s3"].load_image().size == (6, 4)
    skipped = {e.item_id: e.reason for e in entries if isinstance(e, Skipped)}
    assert skipped["s4"].endswith("sample 's4': no answer label")
    assert "image 000" in skipped["s5"] and "not in the images table" in skipped["s5"]


@pytest.mark.parametrize(
    ("make", "message"),
    [(lambda p: (p / "shards").mkdir(parents=True), "not a vzero store"), (lambda p: None, "no such store")],
)
def test_a_folder_that_is_no_store_gets_the_stores_error(tmp_path, make, message):
    make(tmp_path / "x")
    with pytest.raises(EvalDataError, match=message):
        list(store_adapter.read_store(tmp_path / "x", benchmark="b"))


def test_only_a_store_is_detected(tmp_path):
    (tmp_path / "shards").mkdir()
    assert not store_adapter._detect(tmp_path)
    open_store(tmp_path / "store", create=True)
    assert store_adapter._detect(tmp_path / "store")


def test_always_a_scores_near_chance_on_a_vstar_derived_store(tmp_path):
    """An ingested V* store keeps the correct option first; evaluation must not show that order."""
    import json

    from PIL import Image

    from vzero_data.ingest import ingest
    from vzero_train.evaluate.scoring import Summary, score_response

    root = tmp_path / "vstar"
    for i in range(60):
        folder = root / ("direct_attributes" if i % 2 else "relative_position")
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (16, 16), (i, 0, 0)).save(folder / f"sa_{i}.png")
        item = {"target_object": ["cup"], "bbox": [[1, 1, 4, 4]], "question": f"Which colour is cup {i}?",
                "options": [f"right{i}", f"wrong{i}a", f"wrong{i}b", f"wrong{i}c"]}  # fmt: skip
        (folder / f"sa_{i}.json").write_text(json.dumps(item))
    ingest(str(root), "vstar", tmp_path / "store", progress=False)
    items = [e for e in open_benchmark(tmp_path / "store").items() if isinstance(e, EvalItem)]
    assert len(items) == 60 and all(i.answer_text.startswith("right") for i in items)
    always_a = Summary.of([score_response(i, "A") for i in items]).overall
    assert 0.1 <= always_a.accuracy <= 0.45  # chance is 0.25; stored order would give 1.0
    again = [e for e in open_benchmark(tmp_path / "store").items() if isinstance(e, EvalItem)]
    assert [i.options for i in again] == [i.options for i in items]  # the same order every run
