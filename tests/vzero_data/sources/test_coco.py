import json

import pytest

from tests.vzero_data.sources.conftest import read_all
from vzero_data.sources import SourceError


def test_coco_grouped_by_category_and_per_annotation_questions(tmp_path, images):
    src = tmp_path / "ann.json"
    src.write_text(
        json.dumps(
            {
                "images": [
                    {"id": 1, "file_name": "a.png", "width": 40, "height": 30},
                    {"id": 2, "file_name": "sub/b.png", "width": 50, "height": 20},
                ],
                "categories": [{"id": 5, "name": "cat"}, {"id": 6, "name": "dog"}],
                "annotations": [
                    {"id": 100, "image_id": 1, "category_id": 5, "bbox": [1, 1, 4, 4]},
                    {"id": 101, "image_id": 1, "category_id": 5, "bbox": [10, 10, 5, 5]},
                    {
                        "id": 102,
                        "image_id": 2,
                        "category_id": 6,
                        "bbox": [0, 0, 3, 3],
                        "question": "What is the dog doing?",
                        "answer": "sitting",
                    },
                    {"id": 103, "image_id": 99, "category_id": 6, "bbox": [0, 0, 3, 3]},
                ],
            }
        )
    )
    samples, rejects = read_all("coco", src, image_root=images, question_template="Where is the {category}?")
    by_q = {i.sample.question: i.sample for i in samples}
    cat = by_q["Where is the cat?"]
    assert [b.to_list() for b in cat.boxes] == [[1, 1, 5, 5], [10, 10, 15, 15]] and cat.target == "cat"
    assert cat.metadata["annotation_ids"] == [100, 101]
    dog = by_q["What is the dog doing?"]
    assert dog.answer == "sitting" and dog.boxes[0].to_list() == [0, 0, 3, 3] and dog.image == "sub/b.png"
    assert [r.reason for r in rejects] == ["bad_field"] and "annotations[3]" in rejects[0].detail


@pytest.mark.parametrize("text, message", [("{oops", "malformed JSON"), ('{"images": 3}', "not COCO-style")])
def test_coco_bad_files(tmp_path, text, message):
    (tmp_path / "a.json").write_text(text)
    with pytest.raises(SourceError, match=message):
        read_all("coco", tmp_path / "a.json")


def coco_json(file_name="a.png"):
    return {
        "images": [{"id": 1, "file_name": file_name, "width": 40, "height": 30}],
        "categories": [{"id": 5, "name": "person"}],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 5, "bbox": [1, 1, 4, 4], "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 5, "bbox": [0, 0, 40, 30], "iscrowd": 1},
        ],
    }


@pytest.mark.parametrize("include_crowd, boxes", [(False, 1), (True, 2)])
def test_crowd_annotations_are_not_evidence_boxes_by_default(tmp_path, images, include_crowd, boxes):
    (tmp_path / "ann.json").write_text(json.dumps(coco_json()))
    samples, rejects = read_all("coco", tmp_path / "ann.json", image_root=images, include_crowd=include_crowd)
    assert len(samples[0].sample.boxes) == boxes
    assert [r.reason for r in rejects] == ([] if include_crowd else ["crowd_annotation"])


@pytest.mark.parametrize("layout", ["val2017", "images/val2017"])
def test_images_found_where_cocos_layout_puts_them(tmp_path, layout):
    from tests.vzero_data.sources.conftest import write_png

    write_png(tmp_path / layout / "000000000001.jpg", (40, 30))
    ann = tmp_path / "annotations" / "instances_val2017.json"
    ann.parent.mkdir()
    ann.write_text(json.dumps(coco_json("000000000001.jpg")))
    samples, rejects = read_all("coco", ann)
    assert len(samples) == 1 and samples[0].sample.image == "000000000001.jpg"


def test_missing_coco_images_ask_for_image_root(tmp_path):
    ann = tmp_path / "annotations" / "instances_val2017.json"
    ann.parent.mkdir()
    ann.write_text(json.dumps(coco_json()))
    with pytest.raises(SourceError, match="pass --image-root"):
        read_all("coco", ann)
