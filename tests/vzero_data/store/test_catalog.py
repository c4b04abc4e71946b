import shutil

import pytest

from vzero_data.store import open_store
from vzero_data.store.layout import CATALOG

QUERIES = [
    "SELECT sample_id, question, boxes, config_hash FROM samples ORDER BY sample_id, config_hash",
    "SELECT sha256, format, width, height, octet_length(bytes) AS n FROM images ORDER BY sha256",
    "SELECT sample_id, kind, strategy, box, valid FROM views ORDER BY view_id",
    "SELECT sample_id, grounder, box, selected FROM regions ORDER BY region_id",
    "SELECT run_id, status FROM runs ORDER BY run_id",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_catalog_rebuilt_from_shards_answers_identically(curated_store, sql):
    before = curated_store.query(sql)
    (curated_store.root / CATALOG).unlink()
    curated_store.rebuild_catalog()
    assert (curated_store.root / CATALOG).exists()
    assert curated_store.query(sql).equals(before)
    assert before.num_rows > 0


def test_new_batches_visible_without_rebuild(ingested_store):
    n = ingested_store.query("SELECT count(*) AS n FROM views").to_pylist()[0]["n"]
    from tests.store_builder import curate

    curate(ingested_store)
    assert ingested_store.query("SELECT count(*) AS n FROM views").to_pylist()[0]["n"] == n + 8


def test_moved_store_still_answers_and_rebuild_repoints(curated_store, tmp_path):
    sql = QUERIES[0]
    expected = curated_store.query(sql)
    moved = tmp_path / "moved"
    shutil.copytree(curated_store.root, moved)
    shutil.rmtree(curated_store.root)
    store = open_store(moved)
    assert store.query(sql).equals(expected)  # stale catalog: falls back to in-memory views
    store.rebuild_catalog()
    assert store.query(sql).equals(expected)


def test_catalog_is_read_only_for_queries(curated_store):
    import duckdb

    with pytest.raises(duckdb.Error):
        curated_store.query("CREATE TABLE evil AS SELECT 1")


def test_a_table_newer_than_the_store_reads_empty_until_its_first_batch(tmp_path):
    """A store made before the ``fingerprints`` table existed has no file of it: its view is empty
    with the table's columns, and a catalog built then is not trusted once a batch holds the table."""
    import pyarrow as pa

    from vzero_data.store import open_store
    from vzero_data.store.layout import write_batch
    from vzero_data.store.schema import FINGERPRINTS

    store = open_store(tmp_path / "s", create=True)
    for path in (tmp_path / "s" / "shards").glob("*/fingerprints.parquet"):
        path.unlink()
    store.rebuild_catalog()
    empty = store.query("SELECT * FROM fingerprints")
    assert empty.num_rows == 0 and empty.column_names == FINGERPRINTS.names
    row = {name: None for name in FINGERPRINTS.names} | {"subject": "image", "subject_id": "abc", "phash": 7}
    write_batch(store.root, {"fingerprints": pa.Table.from_pylist([row], schema=FINGERPRINTS)})
    assert store.query("SELECT subject_id, phash FROM fingerprints").to_pylist() == [
        {"subject_id": "abc", "phash": 7}
    ]
