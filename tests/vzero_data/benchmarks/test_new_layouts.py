"""ZoomBench, MME-RealWorld-Lite and VisualProbe read from fixtures in their published layouts, and
the evidence (boxes, crops) V* and ZoomBench carry for the zooming-gap evaluation."""

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from vzero_data.benchmarks import detect_format, open_benchmark
from vzero_data.benchmarks.items import EvalItem, Skipped


def _png(color="red", size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


IMAGE_STRUCT = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


@pytest.mark.parametrize(
    "columns",
    [
        {"id": ["q1", "q2", "q3"], "query": None, "response": None},  # Vision-OPD's reader's names
        {"prompt": None, "answer": None},  # the ZoomBench authors' conversion script's names
    ],
)
def test_zoombench_parquet_becomes_items_with_their_crops(tmp_path, columns):
    questions = [
        "How many table lamps are in the image? Select from the following choices.\n(A) 0\n(B) 2\n(C) 1\n(D) 3",
        "What is written on the sign?",
        "",
    ]
    answers = ["C", "OPEN", "A"]
    q_key, a_key = [k for k in columns if k != "id"]
    data = {
        **({"id": columns["id"]} if "id" in columns else {}),
        q_key: questions,
        a_key: answers,
        "image": pa.array([{"bytes": _png(), "path": None}] * 3, IMAGE_STRUCT),
        "crop_image": pa.array([{"bytes": _png("blue", (8, 6)), "path": None}, None, None], IMAGE_STRUCT),
    }
    (tmp_path / "ZoomBench" / "data").mkdir(parents=True)
    pq.write_table(pa.table(data), tmp_path / "ZoomBench" / "data" / "test.parquet")
    assert detect_format(tmp_path / "ZoomBench") == "zoombench"
    entries = list(open_benchmark(tmp_path / "ZoomBench").items())
    mcq, open_q, empty = entries
    assert isinstance(mcq, EvalItem) and mcq.options == ("0", "2", "1", "3") and mcq.answer == "C"
    assert mcq.question == "How many table lamps are in the image? Select from the following choices."
    assert mcq.load_crop().size == (8, 6) and mcq.load_image().size == (40, 30)
    assert isinstance(open_q, EvalItem) and open_q.options == () and open_q.answer == "OPEN"
    assert open_q.load_crop is None  # no crop shipped: the zoom gap skips it
    assert isinstance(empty, Skipped) and "no question" in empty.reason


def test_mme_realworld_lite_reads_lmms_evals_shards(tmp_path):
    import base64

    rows = {
        "index": [7, 8],
        "question": ["What colour is the car?", "How many people?"],
        "multi-choice options": [["(A) red", "(B) blue"], ["(A) 1", "(B) 2", "(C) 3"]],
        "answer": ["B", "C"],
        "category": ["Perception/Remote Sensing", "Reasoning/Monitoring"],
        "l2-category": ["color", "count"],
        "bytes": [base64.b64encode(_png()).decode()] * 2,
    }
    data = tmp_path / "MME-RealWorld-lite-lmms-eval" / "data"
    data.mkdir(parents=True)
    pq.write_table(pa.table({k: v[:1] for k, v in rows.items()}), data / "train-00000-of-00002.parquet")
    pq.write_table(pa.table({k: v[1:] for k, v in rows.items()}), data / "train-00001-of-00002.parquet")
    assert detect_format(data.parent) == "mme_realworld_lite"
    items = list(open_benchmark(data.parent).items())
    assert [(i.item_id, i.answer, i.options) for i in items] == [
        ("7", "B", ("red", "blue")),
        ("8", "C", ("1", "2", "3")),
    ]


def test_visualprobe_difficulty_folders(tmp_path):
    for difficulty in ("Easy", "Hard"):
        folder = tmp_path / f"VisualProbe_{difficulty}_data"
        (folder / "images").mkdir(parents=True)
        Image.new("RGB", (20, 10)).save(folder / "images" / "a.jpg")
        records = [
            {
                "images": [f"VisualProbe_{difficulty}/images/a.jpg"],
                "problem": "<image>\nWhat is on the roof?",
                "solution": "a cat",
            },
            {"images": [], "problem": "<image>\nNo image here?", "solution": "x"},
        ]
        (folder / "val.json").write_text(json.dumps(records), encoding="utf-8")
    assert detect_format(tmp_path) == "visualprobe"
    entries = list(open_benchmark(tmp_path, "visualprobe").items())
    items = [e for e in entries if isinstance(e, EvalItem)]
    assert [(i.category, i.question, i.answer) for i in items] == [
        ("Easy", "What is on the roof?", "a cat"),
        ("Hard", "What is on the roof?", "a cat"),
    ]
    assert items[0].load_image().size == (20, 10)  # the data set's own name stripped from the path
    assert sum(isinstance(e, Skipped) for e in entries) == 2


def test_vstar_items_carry_their_boxes_in_xyxy_pixels(tmp_path):
    sub = tmp_path / "vstar" / "direct_attributes"
    sub.mkdir(parents=True)
    Image.new("RGB", (100, 80)).save(sub / "sa_1.jpg")
    item = {
        "target_object": ["cup"],
        "bbox": [[10, 20, 30, 15]],
        "question": "What colour is the cup?",
        "options": ["red", "blue"],
    }
    (sub / "sa_1.json").write_text(json.dumps(item), encoding="utf-8")
    (entry,) = open_benchmark(tmp_path / "vstar", "vstar").items()
    assert [b.to_list() for b in entry.boxes] == [[10.0, 20.0, 40.0, 35.0]]
    questions = {
        "question_id": 0,
        "image": "direct_attributes/sa_1.jpg",
        "text": "What colour is the cup?\n(A) red\n(B) blue\nAnswer with the option's letter from the given choices directly.",
        "label": "A",
        "category": "direct_attributes",
    }
    (tmp_path / "vstar" / "test_questions.jsonl").write_text(json.dumps(questions) + "\n", encoding="utf-8")
    (entry,) = open_benchmark(tmp_path / "vstar", "vstar").items()
    assert [b.to_list() for b in entry.boxes] == [[10.0, 20.0, 40.0, 35.0]]  # from the item's JSON


def test_treebench_tsv_items_keep_their_target_boxes(tmp_path):
    import base64

    import pandas as pd

    image = base64.b64encode(_png(size=(100, 80))).decode()
    frame = pd.DataFrame(
        {
            "index": [1, 2, 3],
            "image": [image, image, image],
            "question": ['What is left of the "lamp"?', "Which colour is the mug\non the desk?", "q?"],
            "multi-choice options": ["A. chair\nB. table", "A. red\nB. blue\nC. green", "A. x\nB. y"],
            "answer": ["B", "A", "E"],
            "category": ["Perception/Attributes"] * 3,
            "target_instances": ["[[10, 20, 40, 35]]", "[]", "[[1, 2, 3, 4]]"],
        }
    )
    frame.to_csv(tmp_path / "TreeBench.tsv", sep="\t", index=False)  # as published: pandas, standard quoting
    assert detect_format(tmp_path) == "treebench"
    first, second, bad = open_benchmark(tmp_path).items()
    assert (first.options, first.answer, [b.to_list() for b in first.boxes]) == (
        ("chair", "table"),
        "B",
        [[10.0, 20.0, 40.0, 35.0]],
    )
    assert second.question == "Which colour is the mug\non the desk?" and second.boxes == ()
    assert isinstance(bad, Skipped) and "'E'" in bad.reason
