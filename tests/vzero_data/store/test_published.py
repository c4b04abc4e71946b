"""A store published by sync and read back from its URI: every reader answers as on the local
store, a rerun copies nothing, and a reader never sees a batch the manifest does not list.

``memory://`` (fsspec's in-process store) stands in for object storage here; the S3 protocol itself
is exercised against a real server in ``test_s3_roundtrip.py``.
"""

from __future__ import annotations

import shutil
import uuid

import fsspec
import pytest

from tests.store_builder import CONFIG, curate
from vzero_data.ingest import ingest
from vzero_data.store import StoreError, open_store
from vzero_data.store.catalog import read_only_query
from vzero_data.store.layout import SCHEMA_BATCH, SHARDS
from vzero_data.store.published import MANIFEST, PublishedStore
from vzero_data.store.stats import store_stats
from vzero_data.store.sync import sync_store
from vzero_data.store.verify import verify_published

QUERIES = [
    "SELECT sample_id, question, boxes, config_hash FROM samples ORDER BY sample_id, config_hash",
    "SELECT sha256, format, width, height, octet_length(bytes) AS n FROM images ORDER BY sha256",
    "SELECT sample_id, kind, strategy, box, valid FROM views ORDER BY view_id",
    "SELECT run_id, status FROM runs ORDER BY run_id",
]


@pytest.fixture(scope="module")
def built(synth_dir, tmp_path_factory):
    """A store ingested, then curated: built once, copied by each test that changes it."""
    path = tmp_path_factory.mktemp("published") / "store"
    store = open_store(path, create=True)
    ingest(str(synth_dir), "synthetic", store, progress=False)
    curate(store, skip_negative=(1,))
    return path


@pytest.fixture
def curated_store(built, tmp_path):
    shutil.copytree(built, tmp_path / "store")
    return open_store(tmp_path / "store")


@pytest.fixture
def uri() -> str:
    return f"memory://published-{uuid.uuid4().hex[:8]}/store"


@pytest.fixture
def memory():
    return fsspec.filesystem("memory")


def published(store, uri) -> PublishedStore:
    sync_store(store, uri, progress=False)
    pub = open_store(uri)
    assert isinstance(pub, PublishedStore)
    return pub


@pytest.mark.parametrize("sql", QUERIES)
def test_queries_answer_as_on_the_local_store(curated_store, uri, sql):
    pub = published(curated_store, uri)
    assert pub.query(sql).equals(curated_store.query(sql))
    assert read_only_query(pub, sql).equals(curated_store.query(sql))


def test_stats_records_and_samples_are_those_of_the_local_store(curated_store, uri):
    pub = published(curated_store, uri)
    local, remote = store_stats(curated_store), store_stats(pub)
    assert remote.pop("store") == uri and local.pop("store") == str(curated_store.root)
    assert remote == local
    assert remote["totals"]["image_bytes"] > 0  # read from the footers of the remote files

    def records(store):
        return [
            (r.sample_id, r.question, r.image.tobytes(), r.positive.tobytes(), sorted(r.negatives))
            for r in store.iter_training_records()
        ]

    assert records(pub) == records(curated_store) and records(pub)
    assert list(pub.iter_samples()) == list(curated_store.iter_samples())
    assert pub.done_sample_ids(CONFIG) == curated_store.done_sample_ids(CONFIG) != set()


def test_a_rerun_copies_nothing(curated_store, uri):
    first = sync_store(curated_store, uri, progress=False)
    again = sync_store(curated_store, uri, progress=False)
    assert first.copied == first.files > 0
    assert (again.copied, again.already_there, again.files) == (0, first.files, first.files)


def test_new_batches_are_copied_on_the_next_sync(curated_store, uri):
    first = sync_store(curated_store, uri, progress=False)
    curate(curated_store, config="c2")
    again = sync_store(curated_store, uri, progress=False)
    assert again.batches > first.batches
    assert again.copied == again.files - first.files
    assert open_store(uri).query(QUERIES[2]).equals(curated_store.query(QUERIES[2]))


def test_a_sync_killed_before_its_manifest_publishes_nothing(curated_store, uri, monkeypatch):
    """The manifest is written last: a sync that dies before it leaves readers on the old manifest,
    and the rerun keeps the files that had arrived whole."""
    import vzero_data.store.sync as sync_module

    sync_store(curated_store, uri, progress=False)
    before = open_store(uri).query(QUERIES[0])
    curate(curated_store, config="c2")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sync_module, "_write_manifest", killed)
    with pytest.raises(KeyboardInterrupt):
        sync_store(curated_store, uri, progress=False)
    assert open_store(uri).query(QUERIES[0]).equals(before)  # the new batches' files are there, unlisted
    assert open_store(uri).query("SELECT DISTINCT config_hash FROM views").to_pylist() == [
        {"config_hash": CONFIG}
    ]
    monkeypatch.undo()
    rerun = sync_store(curated_store, uri, progress=False)
    assert rerun.copied == 0 and rerun.already_there == rerun.files
    assert open_store(uri).query(QUERIES[2]).equals(curated_store.query(QUERIES[2]))


def test_a_first_sync_killed_before_its_manifest_leaves_no_store(curated_store, uri, monkeypatch):
    import vzero_data.store.sync as sync_module

    monkeypatch.setattr(sync_module, "_write_manifest", lambda *a: (_ for _ in ()).throw(OSError("lost")))
    with pytest.raises(OSError):
        sync_store(curated_store, uri, progress=False)
    with pytest.raises(StoreError, match="no such store"):
        open_store(uri)


def test_a_batch_copied_without_the_manifest_is_invisible(curated_store, uri, memory):
    pub = published(curated_store, uri)
    batch = pub.batches()[-1]
    base = uri.removeprefix("memory:/")
    memory.copy(f"{base}/{SHARDS}/{batch}", f"{base}/{SHARDS}/zzz-not-listed", recursive=True)
    again = open_store(uri)
    assert again.batches() == pub.batches()
    assert again.query(QUERIES[0]).equals(curated_store.query(QUERIES[0]))


def test_compacted_batches_are_left_until_prune(curated_store, uri, memory):
    first = sync_store(curated_store, uri, progress=False)
    curated_store.compact()
    after = sync_store(curated_store, uri, progress=False)
    assert after.unlisted_batches and after.pruned == 0
    assert open_store(uri).query(QUERIES[2]).equals(curated_store.query(QUERIES[2]))
    pruned = sync_store(curated_store, uri, progress=False, prune=True)
    assert pruned.pruned == len(after.unlisted_batches) and pruned.copied == 0
    left = {p.rsplit("/", 1)[-1] for p in memory.ls(f"{uri.removeprefix('memory:/')}/{SHARDS}", detail=False)}
    assert left == set(open_store(uri).batches())
    assert first.batches > after.batches


def test_verify_finds_a_file_that_differs_from_what_sync_copied(curated_store, uri, memory):
    pub = published(curated_store, uri)
    assert not verify_published(pub).damage
    batch = next(b for b in pub.batches() if "views.parquet" in pub.manifest.batches[b] and b != SCHEMA_BATCH)
    path = pub.path(batch, "views.parquet")
    data = bytearray(memory.cat_file(path))
    data[len(data) // 2] ^= 0xFF
    memory.pipe_file(path, bytes(data))
    report = verify_published(open_store(uri))
    (damage,) = report.damage
    assert damage.file == f"{SHARDS}/{batch}/views.parquet"
    assert "differs from the copy sync made" in damage.problem
    assert damage.samples  # the batch's samples, from its readable files


def test_queries_cannot_read_outside_the_published_shards(curated_store, uri, memory, tmp_path):
    import duckdb

    pub = published(curated_store, uri)
    memory.pipe_file("/elsewhere/secret.csv", b"a\n1\n")
    (tmp_path / "local.csv").write_text("a\n1\n")
    for sql in (
        "SELECT * FROM read_csv('memory:///elsewhere/secret.csv')",
        f"SELECT * FROM read_csv('{tmp_path}/local.csv')",
        f"SELECT * FROM read_text('{uri}/{MANIFEST}')",
    ):
        with pytest.raises(duckdb.Error):
            read_only_query(pub, sql)


def test_a_folder_published_to_is_read_through_its_manifest(curated_store, tmp_path):
    target = tmp_path / "shared" / "store"
    sync_store(curated_store, str(target), progress=False)
    pub = open_store(target)
    assert isinstance(pub, PublishedStore)
    assert pub.query(QUERIES[1]).equals(curated_store.query(QUERIES[1]))
    with pytest.raises(StoreError, match="is the store itself"):
        sync_store(curated_store, str(curated_store.root), progress=False)


@pytest.mark.parametrize(
    ("location", "create", "message"),
    [
        ("memory://nothing-here/store", False, "no such store: no vzero-manifest.json"),
        ("memory://nothing-here/store", True, "a published store is read-only"),
        ("file:///etc", False, "scheme 'file' is not read"),
        ("ftp://host/store", False, "scheme 'ftp' is not read"),
    ],
)
def test_open_store_at_a_uri_errors(location, create, message):
    with pytest.raises(StoreError, match=message):
        open_store(location, create=create)


def test_an_unreadable_manifest_is_a_located_error(uri, memory):
    memory.pipe_file(f"{uri.removeprefix('memory:/')}/{MANIFEST}", b'{"format": "something else"}')
    with pytest.raises(StoreError, match=f"{uri}/{MANIFEST}: unreadable store manifest"):
        open_store(uri)
