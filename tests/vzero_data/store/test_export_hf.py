import json

import datasets
import pytest

from vzero_data.store.export_hf import export_hf
from vzero_data.store.layout import StoreError


def test_hf_export_loads_and_matches_the_store(curated_store, tmp_path):
    out = tmp_path / "hf"
    summary = export_hf(curated_store, out, progress=False)
    assert summary.written == 3
    ds = datasets.load_from_disk(str(out))
    assert len(ds) == 3
    assert isinstance(ds.features["image"], datasets.Image) and isinstance(
        ds.features["negative"], datasets.Image
    )
    samples = {s.sample_id: s for s in curated_store.iter_samples("ingest")}
    records = {r.sample_id: r for r in curated_store.iter_training_records(["corner"])}
    for row in ds:
        s, rec = samples[row["sample_id"]], records[row["sample_id"]]
        assert row["question"] == s.question and row["target"] == s.target
        assert row["image"].size == (s.width, s.height)
        assert row["positive"].convert("RGB").tobytes() == rec.positive.tobytes()
        assert row["negative"].convert("RGB").tobytes() == rec.negatives["corner"].tobytes()
        assert row["positive_box"] == s.boxes[0].to_list()
        assert (row["positive_strategy"], row["negative_strategy"]) == ("crop", "corner")
        assert row["eval_answer"] == s.answer and row["eval_options"] == list(s.options)
        assert json.loads(row["metadata"])["target_rgb"] == s.metadata["target_rgb"]


def test_hf_export_refuses_existing_output(curated_store, tmp_path):
    (tmp_path / "hf").mkdir()
    with pytest.raises(StoreError, match="already exists"):
        export_hf(curated_store, tmp_path / "hf", progress=False)


@pytest.mark.parametrize("n_rows, max_shard_bytes, shards", [(0, 1 << 20, 1), (3, 1 << 20, 1), (3, 1, 3)])
def test_dataset_folder_is_what_load_from_disk_reads(tmp_path, n_rows, max_shard_bytes, shards):
    import io

    from PIL import Image

    from vzero_data.store.export_hf import write_dataset_folder

    def png(i):
        buf = io.BytesIO()
        Image.new("RGB", (4 + i, 3), (i, 0, 0)).save(buf, format="PNG")
        return {"bytes": buf.getvalue(), "path": None}

    rows = [
        {
            "sample_id": f"s{i}", "question": "q?", "image": png(i), "positive": png(i), "negative": png(i),
            "positive_strategy": "crop", "negative_strategy": "masked", "positive_box": [0.0, 0.0, 1.0, 1.0],
            "target": "t", "source": "x", "config_hash": "c", "metadata": "{}", "eval_answer": None,
            "eval_options": None,
        }
        for i in range(n_rows)
    ]  # fmt: skip
    out = tmp_path / "ds"
    assert write_dataset_folder(iter(rows), out, max_shard_bytes=max_shard_bytes) == n_rows
    assert len(list(out.glob("data-*-of-*.arrow"))) == shards
    ds = datasets.load_from_disk(str(out))
    assert ds["sample_id"] == [f"s{i}" for i in range(n_rows)]
    assert [im.size for im in ds["image"]] == [(4 + i, 3) for i in range(n_rows)]
