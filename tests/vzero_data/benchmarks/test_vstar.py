import json

import pytest
from PIL import Image

from vzero_data.benchmarks import open_benchmark
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped
from vzero_data.benchmarks.vstar import shuffled_options

QUESTIONS = {
    ("direct_attributes", "sa_1.jpg"): ("What is the color of the cup?", ["white", "black", "red", "blue"]),
    ("direct_attributes", "sa_2.png"): ("What is the material of the bag?", ["leather", "plastic"]),
    ("relative_position", "sa_3.jpg"): ("Is the dog left or right of the cat?", ["left", "right"]),
}


@pytest.fixture
def vstar(tmp_path):
    root = tmp_path / "vstar_bench"
    for (subtask, image_name), (question, options) in QUESTIONS.items():
        folder = root / subtask
        folder.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (40, 30), "white").save(folder / image_name)
        meta = {"target_object": ["cup"], "bbox": [[1, 2, 3, 4]], "question": question, "options": options}
        (folder / image_name).with_suffix(".json").write_text(json.dumps(meta))
    (root / "relative_position" / "orphan.json").write_text(
        json.dumps({"question": "Q?", "options": ["a", "b"]})
    )
    (root / "relative_position" / "broken.json").write_text("{")
    return root


def test_vstar_items_put_the_first_option_behind_the_answer_letter(vstar):
    bench = open_benchmark(vstar)
    assert (bench.name, bench.format) == ("vstar_bench", "vstar")
    entries = list(bench.items())
    items = [e for e in entries if isinstance(e, EvalItem)]
    assert [i.item_id for i in items] == [
        "direct_attributes/sa_1",
        "direct_attributes/sa_2",
        "relative_position/sa_3",
    ]
    for item, (_, (question, options)) in zip(items, QUESTIONS.items(), strict=True):
        assert item.question == question
        assert sorted(item.options) == sorted(options)
        assert item.answer_text == options[0]
        assert item.category == item.item_id.split("/")[0]
        assert item.metadata["bbox"] == [[1, 2, 3, 4]]
        assert item.load_image().size == (40, 30)
    assert [i.options for i in items] == [
        i.options for i in open_benchmark(vstar).items() if isinstance(i, EvalItem)
    ]
    skipped = {e.item_id: e.reason for e in entries if isinstance(e, Skipped)}
    assert "no image with the same name" in skipped["relative_position/orphan"]
    assert "malformed JSON" in skipped["relative_position/broken"]


def test_shuffle_is_fixed_by_id_and_not_always_identity():
    options = ["w", "x", "y", "z"]
    assert shuffled_options(options, "id-1") == shuffled_options(options, "id-1")
    answers = {shuffled_options(options, f"id-{k}")[1] for k in range(40)}
    assert answers == {"A", "B", "C", "D"}


def test_not_a_vstar_folder(tmp_path):
    with pytest.raises(EvalDataError, match="cannot tell its benchmark format"):
        open_benchmark(tmp_path)
    with pytest.raises(EvalDataError, match="not a V\\* Bench folder"):
        list(open_benchmark(tmp_path, "vstar").items())


def test_root_test_questions_jsonl_gives_the_scored_protocol(vstar):
    """The download's ``test_questions.jsonl``: ``text`` = question, "(A) ..." lines, instruction;
    ``label`` = the correct letter in that order (lmms-eval and VLMEvalKit score this)."""
    rows = [
        {
            "question_id": 0,
            "image": "direct_attributes/sa_1.jpg",
            "text": "What is the color of the cup?\n(A) black\n(B) red\n(C) white\n(D) blue\n"
            "Answer with the option's letter from the given choices directly.",
            "category": "direct_attributes",
            "label": "C",
        },
        {
            "question_id": 1,
            "image": "direct_attributes/sa_2.png",
            "text": "No options?",
            "category": "x",
            "label": "A",
        },
    ]
    (vstar / "test_questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    entries = list(open_benchmark(vstar).items())
    (item,) = [e for e in entries if isinstance(e, EvalItem)]
    assert (item.item_id, item.question) == ("direct_attributes/sa_1", "What is the color of the cup?")
    assert (
        item.options == ("black", "red", "white", "blue")
        and item.answer == "C"
        and item.answer_text == "white"
    )
    assert "test_questions.jsonl" in item.metadata["protocol"] and item.load_image().size == (40, 30)
    (skipped,) = [e for e in entries if isinstance(e, Skipped)]
    assert skipped.item_id == "direct_attributes/sa_2" and 'no "(A) ..." options' in skipped.reason


def test_without_test_questions_the_protocol_says_per_item_order(vstar):
    items = [e for e in open_benchmark(vstar).items() if isinstance(e, EvalItem)]
    assert all("per-item JSON" in i.metadata["protocol"] for i in items)
