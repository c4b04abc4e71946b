import json

from tests.vzero_data.sources.conftest import read_all


def test_visual_cot_meta_jsonl(tmp_path, images):
    src = tmp_path / "viscot.jsonl"
    rows = [
        {
            "dataset": "gqa",
            "split": "train",
            "image": "a.png",
            "question": "What is on the table?",
            "answer": "a cup",
            "bboxs": [[2, 3, 12, 13]],
            "width": 40,
            "height": 30,
        },
        {
            "dataset": "docvqa",
            "split": "train",
            "image": "sub/b.png",
            "question": "Title?",
            "answer": "x",
            "bboxs": [[0, 0, 10, 10], [20, 5, 30, 15]],
            "width": 99,
            "height": 20,
        },
        {"dataset": "gqa", "image": "a.png", "question": "q?", "bboxs": "[[1, 2]]"},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    samples, rejects = read_all("visual_cot", src, image_root=images)
    (s,) = (i.sample for i in samples)
    assert s.source == "visual_cot/gqa" and s.answer == "a cup" and s.boxes[0].to_list() == [2, 3, 12, 13]
    assert s.metadata == {"split": "train"}
    assert [r.reason for r in rejects] == ["size_mismatch", "bad_field"]
    assert f"{src}:2" in rejects[0].detail and f"{src}:3" in rejects[1].detail
