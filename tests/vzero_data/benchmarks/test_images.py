"""A benchmark's distinct images with their items and target boxes, for contamination checks."""

import base64
import json

import pytest

from tests.store_builder import png
from vzero_data.benchmarks.images import read_benchmark_images, split_spec, target_boxes
from vzero_data.benchmarks.items import EvalDataError


def vstar(root, with_questions: bool):
    sub = root / "direct_attributes"
    sub.mkdir(parents=True)
    for name, colour in (("a", "red"), ("b", "blue")):
        (sub / f"{name}.png").write_bytes(png(colour, (40, 30)))
        item = {
            "question": "Colour?",
            "options": ["red", "blue"],
            "target_object": ["x"],
            "bbox": [[2, 3, 10, 5]],
        }
        (sub / f"{name}.json").write_text(json.dumps(item))
    if with_questions:
        rows = [
            {
                "question_id": i,
                "image": f"direct_attributes/{n}.png",
                "text": "Colour?\n(A) red\n(B) blue",
                "label": "A",
            }
            for i, n in enumerate("ab")
        ]
        (root / "test_questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


@pytest.mark.parametrize("with_questions", [False, True], ids=["per-item JSON", "test_questions.jsonl"])
def test_vstar_targets_are_xywh_boxes_in_either_protocol(tmp_path, with_questions):
    bench = read_benchmark_images(str(vstar(tmp_path / "v", with_questions)))
    assert bench.format == "vstar" and len(bench.images) == 2
    assert [b.to_list() for _, b in bench.images[0].targets] == [[2, 3, 12, 8]]


def test_a_plain_folder_is_every_image_under_it_once_by_content(tmp_path):
    (tmp_path / "imgs" / "sub").mkdir(parents=True)
    (tmp_path / "imgs" / "x.png").write_bytes(png("red"))
    (tmp_path / "imgs" / "sub" / "same.png").write_bytes(png("red"))
    (tmp_path / "imgs" / "y.png").write_bytes(png("green"))
    (tmp_path / "imgs" / "notes.txt").write_text("not an image")
    bench = read_benchmark_images(str(tmp_path / "imgs"))
    assert bench.format == "folder" and sorted(sorted(i.item_ids) for i in bench.images) == [
        ["sub/same.png", "x.png"],
        ["y.png"],
    ]
    assert read_benchmark_images(f"folder:{tmp_path / 'imgs'}").format == "folder"


def test_images_inside_a_tsv_are_spilled_and_read_back(tmp_path):
    import pandas as pd

    cell = base64.b64encode(png("red", (20, 10))).decode()
    rows = [
        {
            "index": i,
            "image": cell,
            "question": "Q?",
            "A": "x",
            "B": "y",
            "answer": "A",
            "category": "single",
            "cycle_category": "cycle1",
        }
        for i in range(3)
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "hr_bench_4k.tsv", sep="\t", index=False)
    bench = read_benchmark_images(str(tmp_path / "hr_bench_4k.tsv"))
    assert bench.format == "hrbench" and len(bench.images) == 1 and len(bench.images[0].item_ids) == 3
    assert bench.images[0].encoded() == png("red", (20, 10))


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("vstar:data/x", ("vstar", "data/x")),
        ("folder:imgs", ("folder", "imgs")),
        ("C:/data", (None, "C:/data")),
        ("a/b", (None, "a/b")),
    ],
)
def test_split_spec(spec, expected):
    fmt, path = split_spec(spec)
    assert (fmt, str(path)) == (expected[0], str(__import__("pathlib").Path(expected[1])))


def test_a_missing_benchmark_or_an_empty_folder_is_an_error(tmp_path):
    with pytest.raises(EvalDataError, match="benchmark source not found"):
        read_benchmark_images(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvalDataError, match="no image files"):
        read_benchmark_images(str(tmp_path / "empty"))


def test_target_boxes_of_items_without_boxes_are_empty():
    from vzero_data.benchmarks.items import EvalItem

    item = EvalItem(
        "1", "b", "Q?", "A", lambda: None, ("x", "y"), metadata={"bbox": "garbage", "protocol": "p"}
    )
    assert target_boxes(item) == []
