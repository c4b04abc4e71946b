import json

import pytest

from tests.vzero_data.sources.conftest import read_all, write_png
from vzero_data.sources import SourceError


def _item(root, sub, stem, data, image=True):
    (root / sub).mkdir(parents=True, exist_ok=True)
    (root / sub / f"{stem}.json").write_text(data if isinstance(data, str) else json.dumps(data))
    if image:
        write_png(root / sub / f"{stem}.jpg", (60, 40))


def test_vstar_layout(tmp_path):
    root = tmp_path / "vstar"
    _item(
        root,
        "direct_attributes",
        "sa_1",
        {
            "target_object": ["cup"],
            "bbox": [[10, 5, 20, 10]],
            "question": "What is the color of the cup?",
            "options": ["white", "black", "red", "blue"],
        },
    )
    _item(
        root,
        "relative_position",
        "sa_2",
        {
            "target_object": ["dog", "cat"],
            "bbox": [[0, 0, 5, 5], [30, 20, 10, 10]],
            "question": "Is the dog left of the cat?",
            "options": ["yes", "no"],
        },
    )
    samples, rejects = read_all("vstar", root)
    assert rejects == []
    a, b = sorted((i.sample for i in samples), key=lambda s: s.metadata["subtask"])
    assert a.answer == "white" and a.options == ("white", "black", "red", "blue")  # first option is correct
    assert (
        a.boxes[0].to_list() == [10, 5, 30, 15]
        and a.target == "cup"
        and a.image == "direct_attributes/sa_1.jpg"
    )
    assert a.metadata["source_id"] == "direct_attributes/sa_1"
    assert [x.to_list() for x in b.boxes] == [[0, 0, 5, 5], [30, 20, 40, 30]]
    assert b.metadata["target_objects"] == ["dog", "cat"] and b.metadata["subtask"] == "relative_position"


@pytest.mark.parametrize(
    "data, image, reason",
    [
        ("{broken", True, "malformed_row"),
        ({"question": "q?", "options": ["a"], "bbox": [[1, 2, 3]]}, True, "bad_field"),
        ({"question": "q?", "options": ["a"], "bbox": []}, False, "image_missing"),
    ],
)
def test_vstar_bad_items(tmp_path, data, image, reason):
    root = tmp_path / "vstar"
    _item(root, "direct_attributes", "x", data, image)
    samples, rejects = read_all("vstar", root)
    assert [r.reason for r in rejects] == [reason] and "direct_attributes/x.json" in rejects[0].detail


def test_vstar_needs_json_files(tmp_path):
    with pytest.raises(SourceError, match="no per-item .json"):
        read_all("vstar", tmp_path)
