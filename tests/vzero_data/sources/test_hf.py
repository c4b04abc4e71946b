import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.vzero_data.sources.conftest import png_bytes, read_all
from vzero_data.sources import SourceError


def _rows():
    return {
        "image": [
            {"bytes": png_bytes((30, 20)), "path": None},
            {"bytes": png_bytes((16, 16), (0, 0, 255)), "path": None},
        ],
        "prompt": ["What is red?", "What is blue?"],
        "bbox": [[1.0, 1.0, 5.0, 5.0], [0.0, 0.0, 2.0, 2.0]],
        "extra": ["x", "y"],
    }


def test_saved_dataset_with_image_feature(tmp_path):
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "prompt": datasets.Value("string"),
            "bbox": datasets.List(datasets.Value("float64")),
            "extra": datasets.Value("string"),
        }
    )
    ds = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(_rows(), features=features),
            "test": datasets.Dataset.from_dict(_rows(), features=features),
        }
    )
    ds.save_to_disk(str(tmp_path / "saved"))
    with pytest.raises(SourceError, match="choose one with --split"):
        read_all("hf", tmp_path / "saved", field_map={"question": "prompt"})
    samples, rejects = read_all("hf", tmp_path / "saved", split="test", field_map={"question": "prompt"})
    assert rejects == [] and [(i.sample.width, i.sample.height) for i in samples] == [(30, 20), (16, 16)]
    assert samples[0].sample.question == "What is red?" and samples[0].sample.metadata == {"extra": "x"}
    assert "[test] row 1" in samples[1].where


def test_parquet_path(tmp_path):
    table = pa.table(_rows())
    pq.write_table(table, tmp_path / "d.parquet")
    samples, rejects = read_all("hf", tmp_path / "d.parquet", field_map={"question": "prompt"})
    assert rejects == [] and len(samples) == 2 and samples[1].sample.boxes[0].to_list() == [0, 0, 2, 2]


def test_unreachable_hub_name_is_a_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("network unreachable")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(
        SourceError, match="no-such-org/no-such-dataset: not a local path.*network unreachable"
    ):
        read_all("hf", "no-such-org/no-such-dataset", split="train")
