import json

import pytest
from PIL import Image

from vzero_data.benchmarks import open_benchmark
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped
from vzero_data.benchmarks.mme_realworld import strip_choice_prefix


def _entry(qid, image, truth="B", choices=None, **extra):
    return {
        "Question_id": qid,
        "Image": image,
        "Text": "How many cars are parked on the left?",
        "Answer choices": choices
        or ["(A) 2", "(B) 3", "(C) 4", "(D) 5", "(E) The image does not feature it."],
        "Ground truth": truth,
        "Task": "Perception",
        "Subtask": "Remote Sensing",
        "Category": "count",
        **extra,
    }


@pytest.mark.parametrize(
    "choice, text",
    [
        ("(A) 12", "12"),
        ("(E) The image does not feature it.", "The image does not feature it."),
        ("B) left", "left"),
        ("plain", "plain"),
    ],
)
def test_strip_choice_prefix(choice, text):
    assert strip_choice_prefix(choice) == text


def test_mme_realworld_entries_become_items(tmp_path):
    (tmp_path / "rs").mkdir()
    Image.new("RGB", (20, 10)).save(tmp_path / "rs" / "1.png")
    data = [
        _entry("perception/rs/1", "rs/1.png", **{"Question Type": "Multiple Choice"}),
        _entry(
            "perception/rs/2",
            "rs/1.png",
            truth="E",
            Task="Reasoning",
            Subtask="Monitoring",
            **{"Question type": "Multiple Choice"},
        ),
        _entry("perception/rs/3", "rs/missing.png"),
        {"Question_id": "perception/rs/4", "Text": "Q?"},
    ]
    src = tmp_path / "MME_RealWorld.json"
    src.write_text(json.dumps(data))
    bench = open_benchmark(src)
    assert (bench.name, bench.format) == ("MME_RealWorld", "mme_realworld")
    entries = list(bench.items())
    items = [e for e in entries if isinstance(e, EvalItem)]
    assert [(i.item_id, i.answer, i.answer_text, i.category) for i in items] == [
        ("perception/rs/1", "B", "3", "Perception/Remote Sensing"),
        ("perception/rs/2", "E", "The image does not feature it.", "Reasoning/Monitoring"),
    ]
    assert items[0].options[0] == "2"
    assert items[0].metadata == {"Category": "count", "question_type": "Multiple Choice"}
    assert items[1].metadata["question_type"] == "Multiple Choice"  # the other spelling
    assert items[0].load_image().size == (20, 10)
    skipped = {e.item_id: e.reason for e in entries if isinstance(e, Skipped)}
    assert "image not found" in skipped["perception/rs/3"]
    assert (
        "MME_RealWorld.json[3]: missing fields ['Image', 'Answer choices', 'Ground truth']"
        in skipped["perception/rs/4"]
    )


def test_image_root_overrides_the_json_folder(tmp_path):
    (tmp_path / "imgs").mkdir()
    Image.new("RGB", (5, 5)).save(tmp_path / "imgs" / "a.jpg")
    src = tmp_path / "meta" / "mme.json"
    src.parent.mkdir()
    src.write_text(json.dumps([_entry("q", "a.jpg")]))
    (item,) = list(open_benchmark(src, image_root=tmp_path / "imgs").items())
    assert item.load_image().size == (5, 5)


@pytest.mark.parametrize("text, message", [("{", "malformed JSON"), ('{"a": 1}', "expected a JSON list")])
def test_unreadable_json_is_a_located_error(tmp_path, text, message):
    src = tmp_path / "bad.json"
    src.write_text(text)
    with pytest.raises(EvalDataError, match=f"bad.json: {message}"):
        list(open_benchmark(src).items())


def _b64(size=(20, 10)) -> str:
    import base64
    import io

    buf = io.BytesIO()
    Image.new("RGB", size, "red").save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _base64_rows(image_key="image"):
    """Rows of the official Base64 distribution (yifanzhang114/MME-RealWorld-Base64)."""
    choices = ["(A) 2", "(B) 3", "(C) 4", "(D) 5", "(E) The image does not feature it."]
    return [
        {"index": 0, image_key: _b64(), "question": "How many cars?", "multi-choice options": choices,
         "answer": "B", "category": "Perception/Monitoring", "l2-category": "counting/vehicle"},
        {"index": 1, image_key: "%%%", "question": "Broken?", "multi-choice options": choices,
         "answer": "A", "category": "Perception/Monitoring", "l2-category": "counting/vehicle"},
    ]  # fmt: skip


def _check_base64_items(entries):
    items = [e for e in entries if isinstance(e, EvalItem)]
    skipped = [e for e in entries if isinstance(e, Skipped)]
    (item,) = items
    assert (item.item_id, item.answer, item.answer_text) == ("0", "B", "3")
    assert item.options[-1] == "The image does not feature it." and item.category == "Perception/Monitoring"
    assert item.load_image().size == (20, 10)
    assert [s.item_id for s in skipped] == ["1"] and "not valid base64" in skipped[0].reason


def test_base64_distribution_json(tmp_path):
    src = tmp_path / "MME_RealWorld_Base64.json"
    src.write_text(json.dumps(_base64_rows()))
    _check_base64_items(list(open_benchmark(src).items()))


def test_base64_distribution_tsv_with_literal_option_lists(tmp_path):
    """The Lite TSV as VLMEvalKit reads it: ``multi-choice options`` is a Python list's text."""
    import pandas as pd

    src = tmp_path / "mme_realworld_lite.tsv"
    pd.DataFrame(_base64_rows()).to_csv(src, sep="\t", index=False)
    assert "['(A) 2'" in src.read_text()
    bench = open_benchmark(src)
    assert bench.format == "mme_realworld"
    _check_base64_items(list(bench.items()))


def test_lmms_eval_parquet_with_bytes_column(tmp_path):
    import pandas as pd

    src = tmp_path / "test.parquet"
    pd.DataFrame(_base64_rows(image_key="bytes")).to_parquet(src)
    bench = open_benchmark(src)
    assert bench.format == "mme_realworld"
    _check_base64_items(list(bench.items()))
