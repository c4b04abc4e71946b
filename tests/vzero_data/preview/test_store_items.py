import numpy as np
import pytest

from vzero_data.preview import items_from_store
from vzero_data.store import open_store
from vzero_data.store.layout import StoreError

from .conftest import write_store


def test_items_from_store_shards(tmp_path, samples):
    store = write_store(tmp_path / "store", samples)
    # a killed writer's unpublished batch must not be read
    hidden = store / ".staging" / "dead-batch"
    hidden.mkdir(parents=True)
    (hidden / "views.parquet").write_bytes(b"partial garbage")
    items = list(items_from_store(store, n=2))
    assert [i.sample_id for i in items] == ["sample-0", "sample-1"]
    for item, sample in zip(items, samples, strict=False):
        assert np.array_equal(item.image, sample.image)
        assert item.target == sample.target
        assert item.tiles[0].label == "positive"
        assert np.array_equal(item.tiles[0].pixels, sample.views[0].pixels)
        assert sorted(t.label for t in item.tiles[1:]) == sorted(v.strategy for v in sample.views[1:])
    last = list(items_from_store(store, n=5))[-1]
    assert last.tiles[-1].pixels is None and "rejected: no_other_image" in last.tiles[-1].caption


def test_config_hash_filters_views(tmp_path, samples):
    store = write_store(tmp_path / "store", samples, config_hash="abc")
    assert len(list(items_from_store(store, n=5, config_hash="abc"))) == 3
    assert list(items_from_store(store, n=5, config_hash="other")) == []


def test_store_without_views_has_no_items(tmp_path):
    open_store(tmp_path / "store", create=True)
    assert list(items_from_store(tmp_path / "store")) == []


def test_a_folder_that_is_no_store_is_a_clear_error(tmp_path):
    (tmp_path / "shards").mkdir()  # no marker file
    with pytest.raises(StoreError, match="not a vzero store"):
        list(items_from_store(tmp_path))
