"""ZwZ-RL-VQA and Vision-OPD-6K in the layouts their authors' scripts write: the question freed of the
red-box hint, "A. ..." options split off, the letter answer stored as the option's text, the ZwZ box
(written as the text "(x1,y1,x2,y2)") in xyxy pixels, and located rejects for bad rows."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.vzero_data.sources.conftest import read_all, write_png
from vzero_data.sources.zwz import HINT, split_problem

PROBLEM = f"What colour is the cup?\n\n{HINT}\n\nA. red\nB. blue\nC. green\n\nAnswer with the option's letter from the given choices."


@pytest.mark.parametrize(
    "problem, question, options, instruction, hint",
    [
        (
            PROBLEM,
            "What colour is the cup?",
            ["red", "blue", "green"],
            "Answer with the option's letter from the given choices.",
            True,
        ),
        ("<image>\nHow many birds?\nA. 1\nB. 2", "How many birds?", ["1", "2"], "", False),
        ("<image>What is written on the sign?", "What is written on the sign?", None, "", False),
        ("A cat on a mat?\nA. yes", "A cat on a mat?\nA. yes", None, "", False),  # one option is no list
    ],
)
def test_split_problem(problem, question, options, instruction, hint):
    assert split_problem(problem) == (question, options, instruction, hint)


def test_zwz_parquet(tmp_path):
    write_png(tmp_path / "bbox_images" / "a.jpg", (120, 90))
    table = pa.table(
        {
            "images": [["bbox_images/a.jpg"], ["bbox_images/a.jpg"], ["bbox_images/missing.jpg"]],
            "problem": [PROBLEM, PROBLEM, PROBLEM],
            "answer": ["B", "Z", "A"],
            "bbox": ["(10.5,20.0,40.0,35.0)", "(1,2,3,4)", "(1,2,3,4)"],
            "status": ["valid vqa"] * 3,
        }
    )
    pq.write_table(table, tmp_path / "train.parquet")
    items, rejected = read_all("zwz", tmp_path)
    (item,) = items
    s = item.sample
    assert (s.question, s.options, s.answer) == ("What colour is the cup?", ("red", "blue", "green"), "blue")
    assert [b.to_list() for b in s.boxes] == [[10.5, 20.0, 40.0, 35.0]]
    assert s.metadata["hint"] == HINT and s.metadata["status"] == "valid vqa"
    assert sorted(r.reason for r in rejected) == ["bad_field", "image_missing"]


def test_vision_opd_train_jsonl(tmp_path):
    write_png(tmp_path / "images" / "full.jpg", (120, 90))
    write_png(tmp_path / "teacher_images" / "crop.jpg", (30, 20))
    rows = [
        {
            "problem": "<image>" + PROBLEM,
            "images": ["images/full.jpg"],
            "teacher_images": ["teacher_images/crop.jpg"],
            "answer": "C",
            "extra_info": {},
        },
        {
            "problem": "<image>How many?",
            "images": ["images/full.jpg"],
            "teacher_images": ["teacher_images/crop.jpg"],
            "answer": "3",
            "extra_info": {"bbox": "(1,2,30,40)"},
        },
        {"problem": "<image>No teacher?", "images": ["images/full.jpg"], "answer": "x"},
    ]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    items, rejected = read_all("vision_opd", tmp_path)
    first, second = (i.sample for i in items)
    assert (first.question, first.answer, first.boxes) == ("What colour is the cup?", "green", ())
    assert first.metadata["teacher_image"] == "teacher_images/crop.jpg"
    assert (second.question, second.options, second.answer) == ("How many?", None, "3")
    assert [b.to_list() for b in second.boxes] == [[1.0, 2.0, 30.0, 40.0]]
    assert [r.reason for r in rejected] == ["bad_field"] and "teacher_images" in rejected[0].detail
