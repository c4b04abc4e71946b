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


def viscot_benchmark_entry(qid, image, box, question, answer, **extra):
    """One entry exactly as ``viscot_benchmark/benchmark/<ds>.json`` holds it (LLaVA form)."""
    return {
        "question_id": qid,
        "image": [image, f"{image}###[{box[0]}, {box[1]}, {box[2]}, {box[3]}]"],
        "conversations": [
            {
                "from": "human",
                "value": f"<image>\n{question} Please provide the bounding box coordinate of the region "
                "that can help you answer the question better.",
            },
            {"from": "gpt", "value": "[0.05, 0.1, 0.3, 0.43]"},
            {"from": "human", "value": "<image>"},
            {"from": "gpt", "value": answer},
        ],
        **extra,
    }


def test_visual_cot_benchmark_json(tmp_path):
    from tests.vzero_data.sources.conftest import write_png

    root = tmp_path / "images"
    write_png(root / "cot" / "cub" / "x.jpg", (40, 30))
    write_png(root / "textvqa" / "train_images" / "t.jpg", (40, 30))
    entries = [
        viscot_benchmark_entry(
            0, "cot/cub/x.jpg", [2, 3, 12, 13], "What color is the bird's beak?", "orange"
        ),
        viscot_benchmark_entry(
            1, "cot/cub/x.jpg", [30, 20, 55, 45], "What is on the wing?", "a band"
        ),  # past the edge
        viscot_benchmark_entry(2, "cot/cub/x.jpg", [5, 5, 5, 9], "Is it flying?", "no"),  # zero area
        viscot_benchmark_entry(
            3, "textvqa/train_images/t.jpg", [1, 1, 9, 9], "What does the sign say?", "stop"
        ),
        {"question_id": 4, "image": "cot/cub/x.jpg###[1, 2]", "conversations": []},
    ]
    bench = tmp_path / "viscot_benchmark" / "benchmark"
    bench.mkdir(parents=True)
    (bench / "cub.json").write_text(json.dumps(entries, indent=4))  # pretty-printed, as shipped
    samples, rejects = read_all("visual_cot", bench / "cub.json", image_root=root)
    by_q = {s.sample.question: s.sample for s in samples}
    beak = by_q["What color is the bird's beak?"]
    assert beak.answer == "orange" and beak.boxes[0].to_list() == [2, 3, 12, 13]
    assert (
        beak.source == "visual_cot/cub" and beak.image == "cot/cub/x.jpg" and "box_notes" not in beak.metadata
    )
    wing = by_q["What is on the wing?"]
    assert wing.boxes[0].to_list() == [30, 20, 40, 30] and "clipped" in wing.metadata["box_notes"][0]
    flying = by_q["Is it flying?"]
    assert flying.boxes == () and "no area" in flying.metadata["box_notes"][0]
    assert by_q["What does the sign say?"].answer == "stop" and beak.metadata["question_id"] == 0
    assert [(r.key, r.reason) for r in rejects] == [("4", "bad_field")] and "cub.json[4]" in rejects[0].detail
