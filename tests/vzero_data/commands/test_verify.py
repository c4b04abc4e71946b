"""Damage is detected, named and contained: ``verify`` finds it by file and sample, every reader
stops with one located line, ``verify --repair`` quarantines it and curate regenerates exactly it."""

import json

import pytest

from vzero_data.cli import main
from vzero_data.pipeline import recipe_from_mapping
from vzero_data.pipeline.runner import curate
from vzero_data.store import open_store
from vzero_data.store.layout import StoreError

from ...store_builder import add_sample, png
from ..pipeline.conftest import recipe_data, scenes, snapshot  # noqa: F401, F811  (scenes: a fixture)

pytestmark = pytest.mark.e2e


def _data_batches(store):
    return [
        b for b in open_store(store).batches() if (b / "views.parquet").exists() and "schema" not in b.name
    ]


def _batch_samples(batch):
    import pyarrow.parquet as pq

    return sorted(set(pq.read_table(batch / "samples.parquet", columns=["sample_id"]).column(0).to_pylist()))


def test_a_truncated_shard_is_named_quarantined_and_regenerated(scenes, tmp_path, capsys):  # noqa: F811
    recipe = recipe_from_mapping(recipe_data(scenes), "test.yaml")
    store = tmp_path / "store"
    curate(recipe, store)
    curate(recipe, tmp_path / "full")
    batch = _data_batches(store)[1]
    lost = _batch_samples(batch)
    damaged = batch / "views.parquet"
    damaged.write_bytes(damaged.read_bytes()[:-100])  # truncated, as by a full disk or a bad copy
    capsys.readouterr()

    # Every command that meets it names the file in one line, no traceback.
    store_argv = [
        ["stats", str(store)],
        ["export", str(store), "--format", "verl", "--out", str(tmp_path / "t.parquet")],
        ["export", str(store), "--format", "hf", "--out", str(tmp_path / "hf")],
        ["catalog", "rebuild", str(store)],
        ["query", str(store), "SELECT count(*) FROM views"],
    ]
    for argv in store_argv:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"{damaged}: damaged shard file" in err, (argv, err)
        assert "Traceback" not in err
    with pytest.raises(StoreError, match="views.parquet: damaged shard file"):
        list(open_store(store).iter_training_records())

    # verify names the file and its samples, and leaves the store alone without --repair.
    assert main(["verify", str(store), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [d["file"] for d in report["damage"]] == [f"shards/{batch.name}/views.parquet"]
    assert report["damage"][0]["samples"] == lost and report["quarantined"] == []
    assert damaged.exists()

    assert main(["verify", str(store), "--repair"]) == 0
    out = capsys.readouterr().out
    assert f"quarantined 1 batch(es) into {store / 'quarantine'}" in out
    assert (store / "quarantine" / batch.name / "views.parquet").exists()
    assert main(["verify", str(store)]) == 0
    assert "no damage found" in capsys.readouterr().out

    rerun = curate(recipe, store).summary
    assert rerun.processed == len(lost) and rerun.already_done > 0
    assert snapshot(store) == snapshot(tmp_path / "full")


def test_a_flipped_byte_in_a_data_page_fails_its_checksum(tmp_path):
    from vzero_data.store.verify import verify_store

    store = open_store(tmp_path / "s", create=True)
    image = png("red", (64, 64))
    with store.writer("r", "cfg") as w:
        add_sample(w, "s1", image)
        w.commit_sample("s1")
    path = next(b / "images.parquet" for b in store.batches() if "schema" not in b.name)
    data = bytearray(path.read_bytes())
    # The image's bytes are in the data page, and as min/max statistics in the page header before
    # it and in the footer after it: the middle copy is the data.
    starts = [i for i in range(len(data)) if data.startswith(image, i)]
    assert len(starts) % 2 == 1
    data[starts[len(starts) // 2] + len(image) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    report = verify_store(store.root)
    assert [d.file for d in report.damage] == [str(path.relative_to(store.root))]
    assert "CRC checksum verification failed" in report.damage[0].problem
    assert report.damage[0].samples == ["s1"]


def test_a_view_that_does_not_decode_is_found_and_never_exported(tmp_path, capsys):
    from vzero_data.store.verify import verify_store

    store = open_store(tmp_path / "s", create=True)
    broken = png("blue", (32, 32))[:-40]  # a PNG cut short: the header reads, the pixels do not
    with store.writer("r", "cfg") as w:
        add_sample(w, "s1", png("red", (64, 64)), boxes=[[0, 0, 8, 8]])
        w.add_view("s1", {"kind": "positive", "strategy": "crop", "image_bytes": png("green")})
        w.add_view(
            "s1",
            {
                "kind": "negative",
                "strategy": "masked",
                "image_bytes": broken,
                "width": 32,
                "height": 32,
                "image_format": "png",
            },
        )
        w.commit_sample("s1")
    report = verify_store(store.root)
    assert len(report.damage) == 1 and report.damage[0].file.endswith("views.parquet")
    assert "view s1:cfg:negative:masked:1" in report.damage[0].problem
    assert report.damage[0].samples == ["s1"]
    out = tmp_path / "t.parquet"
    assert main(["export", str(store.root), "--format", "verl", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "sample s1: negative view 'masked'" in err and "nothing was exported" in err
    assert not out.exists()
