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
