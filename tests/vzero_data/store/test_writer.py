import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from vzero_core.boxes import Box
from vzero_core.sample import Sample, image_digest
from vzero_data.store import open_store
from vzero_data.store.layout import SHARDS, STAGING, StoreError

ROOT = Path(__file__).resolve().parents[3]


def _sample(i: int, sha: str = "ab" * 32) -> Sample:
    return Sample.create(
        image=f"img{i}.png",
        image_sha256=sha,
        width=100,
        height=80,
        question=f"What is object {i}?",
        answer="red",
        options=("red", "blue"),
        target=f"object {i}",
        boxes=(Box(1, 2, 30, 40),),
        source="unit",
        metadata={"k": i, "nested": {"a": [1, 2]}},
    )


def test_round_trip_samples_equal(tmp_path):
    store = open_store(tmp_path / "s", create=True)
    written = [_sample(i) for i in range(5)]
    with store.writer("run1", "cfg") as w:
        for s in written:
            w.add_sample(s)
            w.commit_sample(s.sample_id)
    assert sorted(store.iter_samples("cfg"), key=lambda s: s.sample_id) == sorted(
        written, key=lambda s: s.sample_id
    )
    row = store.query("SELECT config_hash, run_id FROM samples LIMIT 1").to_pylist()[0]
    assert row == {"config_hash": "cfg", "run_id": "run1"}


def test_duplicate_images_stored_once(tmp_path):
    store = open_store(tmp_path / "s", create=True)
    data = b"\x89PNG fake but content-addressed"
    sha = image_digest(data)
    with store.writer("r1", "cfg") as w:
        assert w.add_image(sha, data, 10, 10, "PNG") is True
        assert w.add_image(sha, data, 10, 10, "png") is False
    with store.writer("r2", "cfg") as w:  # a later writer sees what is stored
        assert w.add_image(sha, data, 10, 10, "png") is False
    stored = sum(pq.read_table(p).num_rows for p in (store.root / SHARDS).glob("*/images.parquet"))
    assert stored == 1
    assert store.query("SELECT count(*) AS n, any_value(format) AS f FROM images").to_pylist() == [
        {"n": 1, "f": "png"}
    ]


def test_images_view_dedups_racing_writers(tmp_path):
    store = open_store(tmp_path / "s", create=True)
    data = b"same bytes"
    sha = image_digest(data)
    w1, w2 = store.writer("r1", "c"), store.writer("r2", "c")  # both opened before either wrote
    for w in (w1, w2):
        w.add_image(sha, data, 1, 1, "png")
        w.close()
    assert store.query("SELECT count(*) AS n FROM images").to_pylist() == [{"n": 1}]


def test_rows_flush_only_on_commit_and_cap(tmp_path):
    store = open_store(tmp_path / "s", create=True)
    batches_before = len(store.batches())
    with store.writer("r", "cfg", shard_max_bytes=1) as w:  # every committed sample is its own batch
        w.add_sample(_sample(0))
        assert len(store.batches()) == batches_before
        w.commit_sample(_sample(0).sample_id)
        assert len(store.batches()) == batches_before + 1
        w.add_sample(_sample(1))  # never committed: dropped on close, never visible
    assert [s.sample_id for s in store.iter_samples("cfg")] == [_sample(0).sample_id]


def test_rejects_and_done_sample_ids(tmp_path):
    store = open_store(tmp_path / "s", create=True)
    with store.writer("r", "cfg") as w:
        w.add_sample(_sample(0))
        w.commit_sample(_sample(0).sample_id)
        w.add_reject("bad-one", "views", "no_room", "target covers the image")
        w.commit_sample("bad-one")
    assert store.done_sample_ids("cfg") == {_sample(0).sample_id, "bad-one"}
    assert store.done_sample_ids("other") == set()
    assert store.query("SELECT stage, reason, detail, run_id FROM rejects").to_pylist() == [
        {"stage": "views", "reason": "no_room", "detail": "target covers the image", "run_id": "r"}
    ]


@pytest.mark.parametrize(
    "view, message",
    [
        ({"kind": "sideways", "strategy": "x", "image_bytes": b"x"}, "kind must be one of"),
        ({"kind": "negative", "strategy": "", "image_bytes": b"x"}, "strategy is required"),
        ({"kind": "negative", "strategy": "x"}, "image_bytes"),
        (
            {
                "kind": "negative",
                "strategy": "x",
                "image_bytes": b"x",
                "box": [1, 2, 3],
                "width": 1,
                "height": 1,
                "image_format": "png",
            },
            "4 numbers",
        ),
    ],
)
def test_bad_view_rows_are_located_errors(tmp_path, view, message):
    store = open_store(tmp_path / "s", create=True)
    with store.writer("r", "cfg") as w, pytest.raises(StoreError, match=message):
        w.add_view("sample-7", view)


@pytest.mark.parametrize(
    "field, value",
    [("seed", "not-a-number"), ("overlap_iou", "high"), ("width", 1.5e12)],
)
def test_row_that_does_not_fit_the_schema_is_refused_at_commit_and_spares_the_batch(tmp_path, field, value):
    store = open_store(tmp_path / "s", create=True)
    view = {"kind": "negative", "strategy": "x", "image_bytes": b"x", "width": 1, "height": 1}
    with store.writer("r", "cfg") as w:
        w.add_sample(_sample(0))
        w.commit_sample(_sample(0).sample_id)
        w.add_sample(_sample(1))
        w.add_view(_sample(1).sample_id, {**view, "image_format": "png", field: value})
        with pytest.raises(StoreError, match=f"sample {_sample(1).sample_id}: views row"):
            w.commit_sample(_sample(1).sample_id)
        w.add_reject(_sample(1).sample_id, "store", "bad_row", "refused")  # the runner's recovery
        w.commit_sample(_sample(1).sample_id)
    assert [s.sample_id for s in store.iter_samples("cfg")] == [_sample(0).sample_id]
    assert store.done_sample_ids("cfg") == {_sample(0).sample_id, _sample(1).sample_id}


@pytest.mark.parametrize(
    "prepare, message",
    [
        (lambda p: None, "no such store"),
        (lambda p: p.mkdir(), "not a vzero store"),
    ],
)
def test_open_store_errors_name_the_path(tmp_path, prepare, message):
    path = tmp_path / "nope"
    prepare(path)
    with pytest.raises(StoreError, match=message) as exc:
        open_store(path)
    assert str(path) in str(exc.value)


def test_create_refuses_a_non_empty_foreign_directory(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "precious.txt").write_text("x")
    with pytest.raises(StoreError, match="not empty"):
        open_store(tmp_path / "d", create=True)


KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    import pyarrow.parquet as pq
    from vzero_core.boxes import Box
    from vzero_core.sample import Sample
    from vzero_data.store import open_store
    from vzero_data.store import layout

    real_write = pq.write_table
    state = {"batches": 0}

    def slow_write(table, path, **kw):
        real_write(table, path, **kw)
        if state["batches"] >= 2:  # third batch: stop half-way through its files
            print("MID-SHARD", flush=True)
            time.sleep(60)

    def counting_rename(src, dst, _rename=layout.os.rename):
        _rename(src, dst)
        state["batches"] += 1

    layout.pq.write_table = slow_write
    layout.os.rename = counting_rename
    store = open_store(sys.argv[1], create=True)
    print("OPEN", flush=True)
    with store.writer("victim", "cfg", shard_max_bytes=1) as w:
        for i in range(100):
            s = Sample.create(image="x.png", image_sha256="cd" * 32, width=50, height=50,
                              question=f"q{i}?", boxes=(Box(1, 1, 9, 9),))
            w.add_sample(s)
            w.add_view(s.sample_id, {"kind": "positive", "strategy": "crop", "image_bytes": b"p" * 100,
                                     "width": 8, "height": 8, "image_format": "png"})
            w.commit_sample(s.sample_id)
    """
)


@pytest.mark.e2e
def test_writer_killed_mid_shard_leaves_no_visible_partial_batch(tmp_path):
    path = tmp_path / "store"
    open_store(path, create=True)  # the schema batch exists before the victim starts
    script = tmp_path / "victim.py"
    script.write_text(KILLED_WRITER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line.strip())
            if line.strip() == "MID-SHARD":
                break
        assert "MID-SHARD" in lines, lines
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    leftovers = list((path / STAGING).iterdir())
    assert len(leftovers) == 1 and any(leftovers[0].glob("*.parquet"))  # the partial batch is on disk...
    store = open_store(path)
    # ...but invisible: exactly the two published samples, each with its view.
    assert store.query("SELECT count(*) AS n FROM samples").to_pylist() == [{"n": 2}]
    assert store.query("SELECT count(*) AS n FROM samples s JOIN views v USING (sample_id)").to_pylist() == [
        {"n": 2}
    ]
    store.rebuild_catalog()  # cleans the dead writer's temp dir
    assert not list((path / STAGING).iterdir())
    assert store.query("SELECT count(*) AS n FROM samples").to_pylist() == [{"n": 2}]
