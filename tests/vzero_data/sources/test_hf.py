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


def test_rehosted_vstar_options_in_text_and_letter_label(tmp_path):
    """lmms-lab/vstar-bench's columns: ``image, text, label, category, question_id``; ``text`` holds
    the question, "(A) ..." option lines and an instruction; ``label`` is the correct letter."""
    text = (
        "What is the color of the dustpan?\n(A) purple\n(B) red\n(C) blue\n(D) white\n"
        "Answer with the option's letter from the given choices directly."
    )
    features = datasets.Features(
        {
            "image": datasets.Image(),
            "text": datasets.Value("string"),
            "label": datasets.Value("string"),
            "category": datasets.Value("string"),
            "question_id": datasets.Value("int64"),
        }
    )
    rows = {
        "image": [{"bytes": png_bytes((30, 20)), "path": None}] * 2,
        "text": [text, "What is it? (A) a cat (B) a dog"],
        "label": ["C", "E"],
        "category": ["direct_attributes", "direct_attributes"],
        "question_id": [1, 2],
    }
    datasets.Dataset.from_dict(rows, features=features).save_to_disk(str(tmp_path / "vstar"))
    samples, rejects = read_all("hf", tmp_path / "vstar")
    (s,) = (i.sample for i in samples)
    assert s.question == "What is the color of the dustpan?" and s.options == (
        "purple",
        "red",
        "blue",
        "white",
    )
    assert s.answer == "blue" and s.metadata["category"] == "direct_attributes"
    assert s.metadata["source_id"] == "1" and s.metadata["instruction"].startswith("Answer with")
    assert [(r.key, r.reason) for r in rejects] == [("2", "bad_field")] and "label" in rejects[0].detail
