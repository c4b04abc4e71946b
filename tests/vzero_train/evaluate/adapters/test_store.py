import hashlib
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from vzero_train.evaluate.adapters import open_benchmark
from vzero_train.evaluate.adapters import store as store_adapter
from vzero_train.evaluate.items import EvalDataError, EvalItem, Skipped


def _png(color, size=(12, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def _sample(sample_id, sha, answer, options=(), metadata=None, source="synthetic", question="What colour?"):
    return {
        "sample_id": sample_id,
        "image_sha256": sha,
        "question": question,
        "answer": answer,
        "options": list(options),
        "metadata": json.dumps(metadata or {}),
        "source": source,
        "config_hash": "c1",
    }


def _write_batch(root, batch, samples, images):
    folder = root / "shards" / batch
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(samples), folder / "samples.parquet")
    image_rows = [
        {"sha256": hashlib.sha256(b).hexdigest(), "format": "png", "width": 12, "height": 8, "bytes": b}
        for b in images
    ]
    pq.write_table(pa.Table.from_pylist(image_rows), folder / "images.parquet")


@pytest.fixture
def store(tmp_path):
    red, blue = _png("red"), _png("blue", size=(6, 4))
    red_sha, blue_sha = hashlib.sha256(red).hexdigest(), hashlib.sha256(blue).hexdigest()
    root = tmp_path / "store"
    _write_batch(
        root,
        "b1",
        [
            _sample("s1", red_sha, "red", ["blue", "red"], {"kind": "color"}),
            _sample("s2", blue_sha, "B", ["x", "y"], {"category": "letters"}),
            _sample("s3", blue_sha, "4", source="counting"),
            _sample("s4", red_sha, None, ["red", "blue"]),
            _sample("s5", "0" * 64, "red", ["red", "blue"]),
        ],
        [red, blue],
    )
    # the same sample curated again under another config, and the same image stored again
    _write_batch(root, "b2", [_sample("s1", red_sha, "red", ["blue", "red"], {"kind": "color"})], [red])
    # a batch still being written (hidden temp folder) is invisible
    _write_batch(root, ".tmp-b3", [_sample("s9", red_sha, "red", ["blue", "red"])], [red])
    return root


def test_store_samples_become_items_once_each(store, monkeypatch):
    monkeypatch.setattr(store_adapter, "CHUNK", 2)  # several image look-ups
    bench = open_benchmark(store)
    assert (bench.name, bench.format) == ("store", "store")
    entries = list(bench.items())
    items = {e.item_id: e for e in entries if isinstance(e, EvalItem)}
    assert sorted(items) == ["s1", "s2", "s3"]
    assert (items["s1"].answer, items["s1"].category) == ("B", "color")
    assert (items["s2"].answer, items["s2"].category) == ("B", "letters")
    assert (items["s3"].options, items["s3"].answer, items["s3"].category) == ((), "4", "counting")
    assert items["s1"].load_image().size == (12, 8) and items["s3"].load_image().size == (6, 4)
    skipped = {e.item_id: e.reason for e in entries if isinstance(e, Skipped)}
    assert skipped["s4"].endswith("sample 's4': no answer label")
    assert "image 000" in skipped["s5"] and "not in the images table" in skipped["s5"]


def test_folder_without_samples_is_not_a_store(tmp_path):
    (tmp_path / "shards").mkdir()
    with pytest.raises(EvalDataError, match="not a vzero store with samples"):
        list(open_benchmark(tmp_path, "store").items())
