import json

import pytest

from tests.vzero_data.sources.conftest import read_all, write_png
from vzero_data.ingest import INGEST_CONFIG_HASH, ingest
from vzero_data.sources import SourceError
from vzero_data.store import open_store
from vzero_data.synth import write_scenes


@pytest.fixture
def messy_jsonl(tmp_path):
    root = tmp_path / "imgs"
    write_png(root / "a.png", (40, 30), (1, 2, 3))
    write_png(root / "b.png", (40, 30), (1, 2, 3))  # same bytes as a.png: stored once
    write_png(root / "c.png", (20, 20), (9, 9, 9))
    rows = [
        {"id": "1", "image": "a.png", "question": "First?", "bbox": [0, 0, 10, 10]},
        {"id": "2", "image": "b.png", "question": "Second?"},
        {"id": "3", "image": "c.png", "question": "Third?", "options": ["x", "y"], "answer": "x"},
        {"id": "4", "image": "../escape.png", "question": "Bad?"},
        "{not json",
    ]
    src = root / "items.jsonl"
    src.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return src


def test_ingest_round_trip_and_rejects(tmp_path, messy_jsonl):
    store = open_store(tmp_path / "store", create=True)
    summary = ingest(str(messy_jsonl), "jsonl", store, progress=False)
    assert (summary.ingested, summary.images_new, summary.images_already_stored) == (3, 2, 1)
    assert dict(summary.rejected) == {"image_outside_root": 1, "malformed_row": 1}
    expected, _ = read_all("jsonl", messy_jsonl)
    stored = sorted(store.iter_samples(INGEST_CONFIG_HASH), key=lambda s: s.sample_id)
    assert stored == sorted((i.sample for i in expected), key=lambda s: s.sample_id)
    assert store.query("SELECT count(*) AS n FROM images").to_pylist() == [{"n": 2}]
    rejects = store.query("SELECT sample_id, stage, reason, detail FROM rejects ORDER BY reason").to_pylist()
    assert [(r["sample_id"], r["stage"], r["reason"]) for r in rejects] == [
        ("4", "ingest", "image_outside_root"),
        (f"{messy_jsonl}:5", "ingest", "malformed_row"),
    ]
    run = store.query("SELECT status, counts FROM runs").to_pylist()
    assert run[0]["status"] == "finished" and json.loads(run[0]["counts"])["ingested"] == 3


def test_ingest_resumes_without_duplicates(tmp_path, messy_jsonl):
    store = open_store(tmp_path / "store", create=True)
    ingest(str(messy_jsonl), "jsonl", store, progress=False, limit=1)
    again = ingest(str(messy_jsonl), "jsonl", store, progress=False)
    third = ingest(str(messy_jsonl), "jsonl", store, progress=False)
    assert (again.ingested, again.skipped_done) == (2, 1)
    assert (third.ingested, third.skipped_done) == (0, 3)
    counts = store.query(
        "SELECT (SELECT count(*) FROM samples) AS s, (SELECT count(DISTINCT sample_id) FROM samples) AS d, (SELECT count(*) FROM rejects) AS r"
    ).to_pylist()[0]
    assert counts == {"s": 3, "d": 3, "r": 2}
    assert store.query("SELECT count(*) AS n FROM runs").to_pylist() == [{"n": 3}]


def test_strict_ingest_fails_at_the_first_bad_row(tmp_path, messy_jsonl):
    store = open_store(tmp_path / "store", create=True)
    with pytest.raises(
        SourceError, match=r"items.jsonl:4: .*outside the image root .* \[image_outside_root\]"
    ):
        ingest(str(messy_jsonl), "jsonl", store, strict=True, progress=False)
    assert store.query("SELECT status FROM runs").to_pylist() == [{"status": "failed"}]
    assert store.query("SELECT count(*) AS n FROM samples").to_pylist() == [{"n": 3}]  # committed ones kept


def test_ingest_streams_into_several_shards(tmp_path):
    write_scenes(tmp_path / "syn", 6, size=160, seed=2, progress=False)
    store = open_store(tmp_path / "store", create=True)
    summary = ingest(str(tmp_path / "syn"), "synthetic", store, progress=False, shard_max_bytes=30_000)
    assert summary.ingested == 6 and summary.batches >= 3


def test_ingest_fingerprints_each_new_image_once(tmp_path):
    write_scenes(tmp_path / "syn", 3, size=160, seed=4, progress=False)
    store = tmp_path / "store"
    ingest(str(tmp_path / "syn"), "synthetic", store, progress=False)
    ingest(str(tmp_path / "syn"), "synthetic", store, progress=False)  # resumed: nothing new
    s = open_store(store)
    rows = s.query("SELECT subject, subject_id, phash FROM fingerprints").to_pylist()
    shas = s.query("SELECT sha256 FROM images ORDER BY 1").column(0).to_pylist()
    assert sorted(r["subject_id"] for r in rows) == shas and {r["subject"] for r in rows} == {"image"}
    assert all(r["phash"] is not None for r in rows)
