"""`compact` merges many small batches into fewer, without changing a row or the order readers see,
and its swap is crash-safe: killed at any step, the store still holds every row exactly once."""

import shutil

import pytest

from tests.vzero_data.pipeline.conftest import recipe_data, snapshot, write_test_scenes
from vzero_data.cli import main
from vzero_data.pipeline import recipe_from_mapping
from vzero_data.pipeline.runner import curate
from vzero_data.store import compact as compact_module
from vzero_data.store import open_store
from vzero_data.store.compact import LOCK_FILE, compaction_lock, plan_groups
from vzero_data.store.layout import SCHEMA_BATCH, STAGING, StoreError
from vzero_data.store.records import iter_raw_records

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    return write_test_scenes(tmp_path_factory.mktemp("scenes"))


@pytest.fixture(scope="module")
def resumed_store_path(scenes, tmp_path_factory):
    """A store written by three resumed runs in small batches: many folders, runs rows among them."""
    path = tmp_path_factory.mktemp("resumed") / "store"
    for limit in (3, 6, None):
        extra = [f"execution.limit={limit}"] if limit else []
        data = recipe_data(scenes, "negatives=[{strategy: masked}, {strategy: shuffled}]", *extra)
        curate(recipe_from_mapping(data, "test.yaml"), path)
    return path


@pytest.fixture
def resumed_store(resumed_store_path, tmp_path):
    shutil.copytree(resumed_store_path, tmp_path / "store")
    return open_store(tmp_path / "store")


def everything(store):
    """Every row of every table (runs included) and the records training reads, in reading order."""
    rows = snapshot(store.root)
    rows["runs"] = sorted(store.query("SELECT * FROM runs").to_pylist(), key=repr)
    rows["records"] = [
        (r.sample["sample_id"], r.positive_bytes, sorted(r.negative_bytes.items()))
        for r in iter_raw_records(store)
    ]
    return rows


def test_compact_merges_batches_and_keeps_every_row(resumed_store):
    before = everything(resumed_store)
    n_before = len(resumed_store.batches())
    summary = resumed_store.compact()
    assert n_before >= 10 and summary.batches_before == n_before
    assert summary.batches_after == len(resumed_store.batches()) == 2  # the schema batch + one
    assert resumed_store.batches()[0].name == SCHEMA_BATCH
    assert everything(resumed_store) == before
    assert resumed_store.compact().merged == []  # nothing left to merge
    assert not list((resumed_store.root / STAGING).iterdir())


def test_compact_respects_the_size_cap(resumed_store):
    before = everything(resumed_store)
    sizes = [compact_module.batch_bytes(b) for b in resumed_store.batches()]
    cap = max(sizes) * 2
    resumed_store.compact(cap)
    after = resumed_store.batches()
    assert 2 < len(after) < len(sizes)
    assert all(compact_module.batch_bytes(b) <= cap * 1.2 for b in after)
    assert everything(resumed_store) == before


def test_a_compaction_killed_after_publishing_is_completed_by_the_next_open(resumed_store, monkeypatch):
    before = everything(resumed_store)
    real = compact_module._remove_batch
    calls = []

    def killed(root, batch):
        calls.append(batch)
        if len(calls) == 2:  # one source gone, the rest still published beside the merged batch
            raise KeyboardInterrupt
        real(root, batch)

    monkeypatch.setattr(compact_module, "_remove_batch", killed)
    with pytest.raises(KeyboardInterrupt):
        resumed_store.compact()
    monkeypatch.setattr(compact_module, "_remove_batch", real)
    reopened = open_store(resumed_store.root)
    assert everything(reopened) == before
    assert len(reopened.batches()) == 2


def test_a_compaction_killed_before_publishing_changes_nothing(resumed_store, monkeypatch):
    before = everything(resumed_store)
    n = len(resumed_store.batches())

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(compact_module, "write_batch", killed)
    with pytest.raises(KeyboardInterrupt):
        resumed_store.compact()
    assert len(open_store(resumed_store.root).batches()) == n
    assert everything(resumed_store) == before


def test_one_compaction_at_a_time(resumed_store):
    with compaction_lock(resumed_store.root), pytest.raises(StoreError, match="another compaction or sync"):
        resumed_store.compact()
    assert (resumed_store.root / LOCK_FILE).exists()


def test_compact_command(resumed_store, capsys):
    assert main(["compact", str(resumed_store.root)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"compacted {resumed_store.root}: ") and "-> 2 " in out


@pytest.mark.parametrize(
    "sizes, cap, expected",
    [
        ([10, 10, 10], 100, [[0, 1, 2]]),
        ([10, 10, 10], 20, [[0, 1]]),
        ([50, 10, 10, 50], 25, [[1, 2]]),
        ([10], 100, []),
    ],
)
def test_plan_groups(tmp_path, sizes, cap, expected):
    batches = []
    for i, size in enumerate(sizes):
        (b := tmp_path / f"b{i}").mkdir()
        (b / "views.parquet").write_bytes(b"x" * size)
        batches.append(b)
    assert plan_groups(batches, cap) == [[batches[i] for i in g] for g in expected]
