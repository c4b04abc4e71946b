import json

from vzero_data.benchmarks import open_benchmark
from vzero_data.benchmarks.items import LETTERS, EvalItem, Skipped
from vzero_data.synth import write_scenes


def test_synthetic_scenes_become_multiple_choice_items(tmp_path):
    write_scenes(tmp_path / "synth", 3, size=128, seed=4, progress=False)
    records = [json.loads(line) for line in (tmp_path / "synth" / "manifest.jsonl").read_text().splitlines()]
    bench = open_benchmark(tmp_path / "synth")
    assert (bench.name, bench.format) == ("synth", "synthetic")
    items = list(bench.items())
    assert [i.item_id for i in items] == [r["id"] for r in records]
    for item, rec in zip(items, records, strict=True):
        assert item.options == tuple(rec["options"])
        assert item.options[LETTERS.index(item.answer)] == rec["answer"] == item.answer_text
        assert item.category == rec["kind"]
        assert item.load_image().size == (128, 128)


def test_generic_manifest_rows_and_rejections(tmp_path):
    from PIL import Image

    Image.new("RGB", (8, 6)).save(tmp_path / "a.png")
    rows = [
        {
            "id": "mc",
            "image": "a.png",
            "question": "Q?",
            "options": ["x", "y"],
            "answer": "y",
            "category": "c1",
        },
        {"id": "letter", "image": "a.png", "question": "Q?", "options": ["x", "y"], "answer": "(A)"},
        {"id": "open", "image": "a.png", "question": "How many?", "answer": "3"},
        {"id": "unlabeled", "image": "a.png", "question": "Q?"},
        {"id": "bad-answer", "image": "a.png", "question": "Q?", "options": ["x", "y"], "answer": "z"},
        {"id": "no-image", "image": "missing.png", "question": "Q?", "answer": "3"},
    ]
    manifest = tmp_path / "set.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n[1, 2]\n")
    entries = list(open_benchmark(manifest).items())
    items = {e.item_id: e for e in entries if isinstance(e, EvalItem)}
    skipped = {e.item_id: e.reason for e in entries if isinstance(e, Skipped)}
    assert (items["mc"].answer, items["mc"].category) == ("B", "c1")
    assert items["letter"].answer == "A"
    assert (items["open"].options, items["open"].answer, items["open"].category) == ((), "3", "all")
    assert skipped["unlabeled"].endswith("set.jsonl:4: no answer label")
    assert "answer 'z' is neither an option letter nor one of the options" in skipped["bad-answer"]
    assert "image not found" in skipped["no-image"]
    assert "set.jsonl:7: malformed JSON" in skipped["line-7"]
    assert skipped["line-8"].endswith("set.jsonl:8: expected a JSON object, got list")
