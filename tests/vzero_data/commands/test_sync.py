"""`vzero-data sync` and the readers given a URI, in-process on a tiny store published to memory://."""

import json
import uuid

import pyarrow.parquet as pq
import pytest

from tests.vzero_data.store.conftest import curate
from vzero_data.cli import main
from vzero_data.store import open_store
from vzero_data.synth import write_scenes


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    """A tiny curated store, built once: the tests only read and publish it."""
    tmp = tmp_path_factory.mktemp("sync-cli")
    write_scenes(tmp / "syn", 3, size=160, seed=4, progress=False)
    store = tmp / "store"
    assert main(["ingest", "--format", "synthetic", str(tmp / "syn"), "--out", str(store)]) == 0
    curate(open_store(store))
    return store


@pytest.fixture
def uri():
    return f"memory://cli-{uuid.uuid4().hex[:8]}/store"


def test_sync_then_every_reader_takes_the_uri(curated, uri, tmp_path, capsys):
    assert main(["sync", str(curated), uri]) == 0
    assert capsys.readouterr().out.startswith("synced 5 batches (")
    assert main(["sync", str(curated), uri, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["copied"] == 0 and again["already_there"] == again["files"]

    for argv in (["stats", "--json"], ["query", "SELECT count(*) AS n FROM samples", "--format", "json"]):
        assert main([argv[0], str(curated), *argv[1:]]) == 0
        local = capsys.readouterr().out
        assert main([argv[0], uri, *argv[1:]]) == 0
        assert capsys.readouterr().out.replace(uri, str(curated)) == local
    assert main(["verify", uri]) == 0
    assert "no damage found" in capsys.readouterr().out
    out = tmp_path / "train.parquet"
    assert main(["export", uri, "--format", "verl", "--out", str(out)]) == 0
    assert pq.read_table(out).num_rows == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "{uri}", "--repair"], "a published store is read-only"),
        (["stats", "memory://nowhere/store"], "no such store: no vzero-manifest.json"),
        (["sync", "{uri}", "memory://elsewhere/x"], "read-only; sync works on a local store"),
        (["compact", "{uri}"], "read-only; compact works on a local store"),
        (["catalog", "rebuild", "{uri}"], "read-only; catalog rebuild works on a local store"),
        (["sync", "{store}", "file:///tmp/x"], "scheme 'file' is not read"),
        (["sync", "{store}", "{uri}", "--concurrency", "0"], "--concurrency: expected at least 1"),
    ],
)
def test_sync_and_uri_errors_are_one_line_exit_2(curated, uri, capsys, argv, message):
    assert main(["sync", str(curated), uri]) == 0
    capsys.readouterr()
    assert main([a.format(uri=uri, store=curated) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "error:" in err
