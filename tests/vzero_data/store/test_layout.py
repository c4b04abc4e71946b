import os
import socket
import subprocess
import sys

import pyarrow as pa
import pytest

from vzero_data.store import layout
from vzero_data.store.layout import (
    STAGING,
    batch_dirs,
    clean_stale_tmp,
    init_layout,
    new_batch_id,
    write_batch,
)


def _host() -> str:
    return "".join(c if c.isalnum() else "_" for c in socket.gethostname())[:40]


def test_batch_ids_are_unique_and_name_host_and_pid():
    ids = {new_batch_id() for _ in range(200)}
    assert len(ids) == 200
    parts = next(iter(ids)).split("-")
    assert parts[1] == _host() and parts[2] == str(os.getpid())


def test_write_batch_publishes_whole_directory(tmp_path):
    init_layout(tmp_path)
    path = write_batch(tmp_path, {"t": pa.table({"x": [1, 2]})})
    assert path in batch_dirs(tmp_path)
    assert (path / "t.parquet").exists()
    assert not list((tmp_path / STAGING).iterdir())


@pytest.mark.parametrize("owner_alive, expect_removed", [(True, False), (False, True)])
def test_stale_staging_removed_only_when_its_writer_is_dead(tmp_path, owner_alive, expect_removed):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        if not owner_alive:
            proc.kill()
            proc.wait()
        staged = tmp_path / STAGING / f"20260101T000000000000Z-{_host()}-{proc.pid}-abcd1234"
        staged.mkdir(parents=True)
        removed = clean_stale_tmp(tmp_path)
        assert (staged in removed) is expect_removed
        assert staged.exists() is not expect_removed
    finally:
        proc.kill()
        proc.wait()


def test_staging_of_another_host_removed_only_when_old(tmp_path):
    staged = tmp_path / STAGING / "20260101T000000000000Z-otherhost-1-abcd1234"
    staged.mkdir(parents=True)
    assert clean_stale_tmp(tmp_path) == []
    assert clean_stale_tmp(tmp_path, max_age_s=-1) == [staged]


def test_cleaning_in_the_same_process_spares_a_batch_being_written(tmp_path, monkeypatch):
    """A second writer opened in this process (another thread) while a batch is staged must not
    delete it; only staging left by a failed write of this process is stale."""
    init_layout(tmp_path)
    real_write = layout.pq.write_table

    def write_then_another_writer_starts(*args, **kwargs):
        real_write(*args, **kwargs)
        clean_stale_tmp(tmp_path)

    monkeypatch.setattr(layout.pq, "write_table", write_then_another_writer_starts)
    path = write_batch(tmp_path, {"t": pa.table({"x": [1, 2]})})
    assert (path / "t.parquet").exists()


def test_a_failed_write_leaves_no_staging(tmp_path, monkeypatch):
    init_layout(tmp_path)
    monkeypatch.setattr(layout, "_fsync_path", lambda path: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        write_batch(tmp_path, {"t": pa.table({"x": [1]})})
    assert not list((tmp_path / STAGING).iterdir())
