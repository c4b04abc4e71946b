"""The store's CLI commands, run in-process on tiny stores (one subprocess run end to end)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest

from tests.vzero_data.store.conftest import curate
from vzero_data.cli import main
from vzero_data.store import open_store
from vzero_data.synth import write_scenes

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def curated(tmp_path):
    write_scenes(tmp_path / "syn", 3, size=160, seed=4, progress=False)
    store = tmp_path / "store"
    assert main(["ingest", "--format", "synthetic", str(tmp_path / "syn"), "--out", str(store)]) == 0
    curate(open_store(store))
    return store


def test_ingest_stats_query_catalog_export(curated, tmp_path, capsys):
    capsys.readouterr()
    assert main(["stats", str(curated), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (
        stats["samples_by_source"] == {"synthetic": 3} and stats["views_by_strategy"]["negative/corner"] == 3
    )
    assert (
        main(
            [
                "query",
                str(curated),
                "SELECT source, count(*) AS n FROM samples GROUP BY 1",
                "--format",
                "json",
            ]
        )
        == 0
    )
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [
        {"source": "synthetic", "n": 6}
    ]
    assert main(["query", str(curated), "SELECT sha256, bytes FROM images LIMIT 1"]) == 0
    assert "bytes>" in capsys.readouterr().out
    (curated / "catalog.duckdb").unlink()
    assert main(["catalog", "rebuild", str(curated)]) == 0
    assert "(6 sample rows)" in capsys.readouterr().out
    assert main(["export", str(curated), "--format", "verl", "--out", str(tmp_path / "t.parquet")]) == 0
    assert pq.read_metadata(tmp_path / "t.parquet").num_rows == 3
    assert main(["export", str(curated), "--format", "hf", "--out", str(tmp_path / "hf")]) == 0
    assert len(datasets.load_from_disk(str(tmp_path / "hf"))) == 3


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["ingest", "--format", "yaml", "x", "--out", "{tmp}/s"],
            "unknown source format 'yaml'; known: coco, csv",
        ),
        (
            ["ingest", "--format", "jsonl", "{tmp}/missing.jsonl", "--out", "{tmp}/s"],
            "missing.jsonl: no such file",
        ),
        (["ingest", "--format", "jsonl", "x", "--out", "{tmp}/s", "--field", "oops"], "expected OURS=THEIRS"),
        (["stats", "{tmp}/nostore"], "no such store"),
        (
            ["export", "{tmp}/nostore", "--format", "csv", "--out", "x"],
            "unknown export format 'csv'; known: hf, verl",
        ),
        (["query", "{store}", "SELECT * FROM nope"], "query failed"),
    ],
)
def test_user_errors_are_one_line_exit_2(curated, tmp_path, capsys, argv, message):
    argv = [a.format(tmp=tmp_path, store=curated) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()  # a failed ingest of a bad format creates nothing


@pytest.mark.e2e
def test_cli_end_to_end_in_a_subprocess(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "vzero_data.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    run("synth", "--out", str(tmp_path / "syn"), "--n", "2", "--size", "160")
    out = run("ingest", "--format", "synthetic", str(tmp_path / "syn"), "--out", str(tmp_path / "store"))
    assert "ingested 2 samples" in out
    assert "samples by source: synthetic: 2" in run("stats", str(tmp_path / "store"))


def test_query_table_shows_sql_nulls_as_null(curated, capsys):
    capsys.readouterr()
    assert main(["query", str(curated), "DESCRIBE samples"]) == 0
    table = capsys.readouterr().out
    assert "NaN" not in table and "NULL" in table
    assert main(["query", str(curated), "SELECT 1::INTEGER AS n, NULL::INTEGER AS m"]) == 0
    assert capsys.readouterr().out.splitlines()[1].split() == ["1", "NULL"], "an integer stays an integer"
