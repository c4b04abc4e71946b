"""Concurrent writers and killed runs: the store lock, commit-time dedup and run leases."""

import multiprocessing
from datetime import datetime, timezone

from vzero_data.store import open_store
from vzero_data.store.layout import SHARDS
from vzero_data.store.locking import run_is_alive

from ...store_builder import add_sample, png


def _create(path: str) -> str:
    try:
        open_store(path, create=True)
    except Exception as exc:  # reported to the parent: any exception fails the test
        return repr(exc)
    return ""


def test_launches_creating_one_store_at_once_never_fail(tmp_path):
    ctx = multiprocessing.get_context("fork")  # fast start: the race window is the point
    for trial in range(4):
        path = str(tmp_path / f"store{trial}")
        with ctx.Pool(6) as pool:
            errors = pool.map(_create, [path] * 6, chunksize=1)
        assert errors == [""] * 6
        assert [p.name for p in (tmp_path / f"store{trial}" / SHARDS).iterdir()] == [
            "00000000T000000000000Z-schema"
        ]


def test_a_sample_published_by_a_concurrent_writer_is_not_written_again(tmp_path):
    store = open_store(tmp_path / "s", create=True)
    first, second = store.writer("r1", "cfg"), store.writer("r2", "cfg")  # both open before either writes
    for writer, samples in ((first, ["a", "b"]), (second, ["b", "c"])):
        for sid in samples:
            add_sample(writer, sid, png(sid == "b" and "blue" or "red"))
            writer.add_view(sid, {"kind": "positive", "strategy": "crop", "image_bytes": png()})
            writer.commit_sample(sid)
        writer.close()
    rows = store.query("SELECT sample_id, run_id FROM samples ORDER BY sample_id").to_pylist()
    assert rows == [
        {"sample_id": "a", "run_id": "r1"},
        {"sample_id": "b", "run_id": "r1"},
        {"sample_id": "c", "run_id": "r2"},
    ]
    views = store.query("SELECT sample_id, count(*) AS n FROM views GROUP BY 1 ORDER BY 1").to_pylist()
    assert [v["n"] for v in views] == [1, 1, 1]
    assert second.samples_taken == 1
    # Under another config the same sample is new work, not a duplicate.
    with store.writer("r3", "other") as w:
        add_sample(w, "b", png("blue"))
        w.commit_sample("b")
    assert store.query("SELECT count(*) AS n FROM samples WHERE sample_id = 'b'").to_pylist() == [{"n": 2}]


def _running_row(store, run_id):
    now = datetime.now(timezone.utc)
    store.record_run(run_id, "cfg", started_at=now, status="running")


def test_a_run_left_running_by_a_dead_process_is_marked_interrupted_and_a_live_one_is_not(tmp_path):
    store = open_store(tmp_path / "s", create=True)
    _running_row(store, "dead-run")  # never held a lease: its process is gone
    with store.lease("live-run"):
        _running_row(store, "live-run")
        assert run_is_alive(store.root, "live-run") and not run_is_alive(store.root, "dead-run")
        assert store.mark_dead_runs() == ["dead-run"]
        assert store.mark_dead_runs() == []
        rows = store.query("SELECT run_id, status FROM runs").to_pylist()
        status = {r["run_id"]: r["status"] for r in rows}
        assert status == {"dead-run": "interrupted", "live-run": "running"}
    assert not run_is_alive(store.root, "live-run")


def test_the_lease_file_goes_with_its_run(tmp_path):
    store = open_store(tmp_path / "s", create=True)
    lease = store.lease("r").acquire()
    assert lease.path.exists()
    lease.release()
    assert not lease.path.exists()
