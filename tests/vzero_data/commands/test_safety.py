"""Commands keep to their own files: queries read only the store, outputs are never replaced
silently, and a store path with glob characters means exactly that folder."""

import os

import pyarrow.parquet as pq
import pytest

from tests.vzero_data.store.conftest import curate
from vzero_data.cli import main
from vzero_data.store import open_store
from vzero_data.synth import write_scenes


@pytest.fixture(scope="module")
def curated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("safety")
    write_scenes(tmp / "syn", 2, size=160, seed=4, progress=False)
    store = tmp / "store"
    assert main(["ingest", "--format", "synthetic", str(tmp / "syn"), "--out", str(store)]) == 0
    curate(open_store(store))
    return store


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT * FROM read_csv('{secret}')", "Permission Error"),
        ("SELECT * FROM read_text('{secret}')", "Permission Error"),
        ("COPY (SELECT 1) TO '{written}'", "read-only (SELECT, EXPLAIN); got COPY"),
        ("SELECT 1; COPY (SELECT 1) TO '{written}'", "got COPY"),
        ("ATTACH '{written}' AS other", "got ATTACH"),
        ("SET enable_external_access = true", "got SET"),
        ("INSTALL httpfs", "got LOAD"),
    ],
)
def test_query_reads_the_store_and_no_other_file(curated, tmp_path, capsys, sql, message):
    secret = tmp_path / "secret.csv"
    secret.write_text("password\nhunter2\n")
    written = tmp_path / "written.csv"
    code = main(["query", str(curated), sql.format(secret=secret, written=written)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "hunter2" not in err
    assert not written.exists()


def test_query_still_reads_every_table_of_the_store(curated, capsys):
    assert main(["query", str(curated), "SELECT count(*) AS n FROM views", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "4"]


@pytest.mark.parametrize("command", ["verl", "preview", "synth", "hf"])
def test_outputs_are_never_replaced_without_overwrite(curated, tmp_path, capsys, command):
    argv, existing = {
        "verl": (
            ["export", str(curated), "--format", "verl", "--out", str(tmp_path / "t.parquet")],
            "t.parquet",
        ),
        "hf": (["export", str(curated), "--format", "hf", "--out", str(tmp_path / "hf")], "hf"),
        "preview": (["preview", "--store", str(curated), "--out", str(tmp_path)], "contact_sheet.png"),
        "synth": (["synth", "--out", str(tmp_path), "--n", "1", "--size", "128"], "manifest.jsonl"),
    }[command]
    assert main(argv) == 0
    target = tmp_path / existing
    before = {p: p.stat().st_mtime_ns for p in ([target] if target.is_file() else target.rglob("*"))}
    capsys.readouterr()
    assert main(argv) == 2
    assert f"{target}: already exists" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert main([*argv, "--overwrite"]) == 0
    assert target.exists()


def test_hf_overwrite_never_replaces_a_folder_it_did_not_write(curated, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    argv = ["export", str(curated), "--format", "hf", "--out", str(mine), "--overwrite"]
    assert main(argv) == 2
    assert "not a dataset folder" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "keep me"


def test_a_store_path_with_glob_characters_reads_only_itself(curated, tmp_path, capsys):
    import shutil

    # Neighbours that the glob st[12] would match; the store itself is the literal folder "st[12]".
    for name in ("st1", "st2"):
        shutil.copytree(curated, tmp_path / name)
    literal = tmp_path / "st[12]"
    open_store(literal, create=True)
    assert open_store(literal).query("SELECT count(*) AS n FROM samples").to_pylist() == [{"n": 0}]
    assert main(["catalog", "rebuild", str(literal)]) == 0
    assert "(0 sample rows)" in capsys.readouterr().out
    assert main(["query", str(literal), "SELECT count(*) AS n FROM views", "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["n", "0"]
    for weird in ("st*", "st?x"):
        store = open_store(tmp_path / weird, create=True)
        assert store.query("SELECT count(*) AS n FROM samples").to_pylist() == [{"n": 0}]
    assert pq.read_metadata(next((tmp_path / "st1" / "shards").glob("*/samples.parquet"))).num_rows >= 0
    assert os.path.isdir(literal / "shards")
