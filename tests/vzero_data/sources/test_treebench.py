"""TreeBench as published: ``TreeBench.tsv`` written by pandas (``to_csv(sep="\\t")``), and as
VLMEvalKit rewrites it (every field quoted); plus the Parquet conversion."""

import base64
import csv

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.vzero_data.sources.conftest import png_bytes, read_all

IMG = base64.b64encode(png_bytes((64, 48))).decode()


def treebench_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "index": [7, 8, 9, 10],
            "image": [IMG, IMG, "!!not base64!!", IMG],
            "question": [
                'What is left of the "lamp"?',  # quotes inside a cell
                "Which colour is the mug\non the desk?",  # a line break inside a cell
                "q?",
                "Where is the cat?\tIn the hall?",  # the delimiter inside a cell
            ],
            "multi-choice options": [
                "A. chair\nB. table",
                "A. red\nB. blue\nC. green",
                "A. x\nB. y",
                "A. yes\nB. no",
            ],
            "answer": ["A", "C", "A", "B"],
            "category": [
                "Perception/Attributes",
                "Perception/Material",
                "Reasoning/Ordering",
                "Perception/OCR",
            ],
            "target_instances": ["[[1.0, 2.0, 30.0, 40.0]]", "[[0, 0, 8, 8], [10, 10, 20, 20]]", "[]", "[]"],
        }
    )


@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL], ids=["pandas", "every-field-quoted"])
def test_treebench_tsv_as_published(tmp_path, quoting):
    src = tmp_path / "TreeBench.tsv"
    treebench_frame().to_csv(src, sep="\t", index=False, quoting=quoting)
    samples, rejects = read_all("treebench", tmp_path)  # the folder holding TreeBench.tsv
    by_id = {s.sample.metadata["source_id"]: s.sample for s in samples}
    a, b, d = by_id["7"], by_id["8"], by_id["10"]
    assert (
        a.question == 'What is left of the "lamp"?'
        and a.options == ("chair", "table")
        and a.answer == "chair"
    )
    assert a.boxes[0].to_list() == [1, 2, 30, 40] and (a.width, a.height) == (64, 48)
    assert a.metadata["category"] == "Perception/Attributes"
    assert b.question == "Which colour is the mug\non the desk?" and b.answer == "green" and len(b.boxes) == 2
    assert d.question == "Where is the cat?\tIn the hall?" and d.boxes == () and d.answer == "no"
    assert [(r.key, r.reason) for r in rejects] == [("9", "bad_field")]
    assert "TreeBench.tsv:" in rejects[0].detail and "base64" in rejects[0].detail


def test_treebench_option_columns_when_no_options_text(tmp_path):
    frame = treebench_frame().drop(columns=["multi-choice options"]).iloc[:1]
    frame["A"], frame["B"], frame["C"] = ["chair"], ["table"], [float("nan")]
    frame.to_csv(tmp_path / "TreeBench.tsv", sep="\t", index=False)
    samples, _ = read_all("treebench", tmp_path / "TreeBench.tsv")
    assert samples[0].sample.options == ("chair", "table") and samples[0].sample.answer == "chair"


def test_treebench_parquet_conversion(tmp_path):
    table = pa.table(
        {
            "index": [7, 8],
            "image": [IMG, IMG],
            "question": ["What is left of the lamp?", "Which color?"],
            "multi-choice options": ['["A. chair", "B. table"]', "A. red\nB. blue"],
            "answer": ["A", "B"],
            "category": ["spatial", "attribute"],
            "target_instances": [[[1.0, 2.0, 30.0, 40.0]], None],
        }
    )
    pq.write_table(table, tmp_path / "treebench.parquet")
    samples, rejects = read_all("treebench", tmp_path / "treebench.parquet")
    a, b = (i.sample for i in samples)
    assert a.options == ("chair", "table") and a.answer == "chair" and a.boxes[0].to_list() == [1, 2, 30, 40]
    assert a.metadata == {"category": "spatial", "source_id": "7"}
    assert b.options == ("red", "blue") and b.answer == "blue" and rejects == []
