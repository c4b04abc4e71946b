import json

import pytest

from tests.vzero_data.sources.conftest import read_all


def _write(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_generic_fields_and_metadata(tmp_path, images):
    src = _write(
        tmp_path / "items.jsonl",
        [
            {
                "id": "q1",
                "image": "a.png",
                "question": "What color is the dot?",
                "answer": "red",
                "options": ["red", "blue"],
                "target": "dot",
                "bbox": [1, 2, 11, 12],
                "difficulty": "hard",
            },
            {"image": "sub/b.png", "question": "Two boxes?", "bbox_xywh": [[0, 0, 5, 5], [10, 10, 4, 6]]},
            {"image": "a.png", "question": "No box at all?"},
        ],
    )
    samples, rejects = read_all("jsonl", src, image_root=images)
    assert rejects == []
    first, second, third = (i.sample for i in samples)
    assert (first.width, first.height, first.answer, first.options, first.target) == (
        40,
        30,
        "red",
        ("red", "blue"),
        "dot",
    )
    assert [b.to_list() for b in first.boxes] == [[1.0, 2.0, 11.0, 12.0]]
    assert first.metadata == {"difficulty": "hard", "source_id": "q1"} and first.source == "jsonl"
    assert first.image == "a.png"
    assert [b.to_list() for b in second.boxes] == [[0.0, 0.0, 5.0, 5.0], [10.0, 10.0, 14.0, 16.0]]
    assert third.boxes == () and third.answer is None


@pytest.mark.parametrize(
    "row, reason, detail",
    [
        ('{"image": "a.png", "question": ', "malformed_row", "items.jsonl:1: malformed JSON"),
        ('["a list"]', "malformed_row", "expected a JSON object"),
        ({"image": "a.png", "question": "  "}, "empty_question", "question is missing or empty"),
        ({"question": "where?"}, "bad_field", "image: missing"),
        ({"image": "missing.png", "question": "q?"}, "image_missing", "'missing.png' not found"),
        ({"image": "../secret.png", "question": "q?"}, "image_outside_root", "outside the image root"),
        ({"image": "/etc/passwd", "question": "q?"}, "image_outside_root", "is absolute"),
        (
            {"image": "a.png", "question": "q?", "bbox": [1, 2, 3]},
            "bad_field",
            "bbox\\[0\\]: expected 4 numbers",
        ),
        ({"image": "a.png", "question": "q?", "bbox": [5, 5, 1, 1]}, "bad_field", "x1 must be < x2"),
        (
            {"image": "a.png", "question": "q?", "bbox": [100, 100, 120, 120]},
            "bad_box",
            "outside the 40x30 image",
        ),
        (
            {"image": "a.png", "question": "q?", "bbox": [1, 1, 2, 2], "bbox_xywh": [1, 1, 1, 1]},
            "bad_field",
            "not both",
        ),
        (
            {"image": "a.png", "question": "q?", "width": 41, "height": 30},
            "size_mismatch",
            "declared size 41x30",
        ),
        ({"image": "notimage.txt", "question": "q?"}, "image_unreadable", "not a readable image"),
    ],
)
def test_bad_rows_are_located_rejections(tmp_path, images, row, reason, detail):
    (images / "notimage.txt").write_text("hello")
    (tmp_path / "secret.png").write_bytes(b"x")
    src = _write(tmp_path / "items.jsonl", [row])
    samples, rejects = read_all("jsonl", src, image_root=images)
    assert samples == [] and len(rejects) == 1
    assert rejects[0].reason == reason
    assert f"{src}:1" in rejects[0].detail
    import re

    assert re.search(detail, rejects[0].detail), rejects[0].detail


def test_symlink_escaping_the_root_is_rejected(tmp_path, images):
    outside = tmp_path / "outside.png"
    outside.write_bytes((images / "a.png").read_bytes())
    (images / "link.png").symlink_to(outside)
    src = _write(tmp_path / "items.jsonl", [{"image": "link.png", "question": "q?"}])
    samples, rejects = read_all("jsonl", src, image_root=images)
    assert [r.reason for r in rejects] == ["image_outside_root"]


def test_duplicate_sample_rejected_naming_the_first(tmp_path, images):
    src = _write(
        tmp_path / "items.jsonl",
        [{"image": "a.png", "question": "q?"}, {"image": "a.png", "question": " q? "}],
    )
    samples, rejects = read_all("jsonl", src, image_root=images)
    assert len(samples) == 1
    assert rejects[0].reason == "duplicate_sample" and f"{src}:1" in rejects[0].detail


def test_field_map_renames(tmp_path, images):
    src = _write(tmp_path / "items.jsonl", [{"img": "a.png", "prompt": "what?", "box": [0, 0, 4, 4]}])
    samples, _ = read_all(
        "jsonl", src, image_root=images, field_map={"image": "img", "question": "prompt", "bbox": "box"}
    )
    assert samples[0].sample.question == "what?" and samples[0].sample.boxes[0].to_list() == [0, 0, 4, 4]
    assert samples[0].sample.metadata == {}
