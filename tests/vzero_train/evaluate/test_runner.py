import os

import pytest
from PIL import Image

from vzero_core.vlm.prompts import PromptTemplates
from vzero_data.benchmarks import open_benchmark
from vzero_data.benchmarks.items import EvalItem, Skipped
from vzero_data.synth import write_scenes
from vzero_train.evaluate.runner import evaluate_model, greedy_config, item_question


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from vzero_core.tiny_models import save_tiny_vlm
    from vzero_core.vlm.models import load_vlm

    path = save_tiny_vlm("qwen2_5_vl", tmp_path_factory.mktemp("tiny") / "qwen", image_size=224)
    return load_vlm(path, device="cpu")


def _blank():
    return Image.new("RGB", (64, 64))


@pytest.mark.parametrize(
    "item, text",
    [
        (
            EvalItem("q", "b", "What colour?", "B", _blank, ("red", "blue")),
            "What colour?\n(A) red\n(B) blue\nAnswer with the option's letter from the given choices directly.",
        ),
        (
            EvalItem("q", "b", "How many?", "3", _blank),
            "How many?\nAnswer the question using a single word or phrase.",
        ),
    ],
)
def test_item_question(item, text):
    assert item_question(item) == text


def test_greedy_config_drops_sampling_knobs(tiny_vlm):
    tiny_vlm.model.generation_config.temperature = 0.7
    try:
        config = greedy_config(tiny_vlm.model, 5)
    finally:
        tiny_vlm.model.generation_config.temperature = None
    assert (config.do_sample, config.temperature, config.max_new_tokens) == (False, None, 5)


def test_evaluate_model_scores_every_item_and_records_skips(tiny_vlm, tmp_path):
    write_scenes(tmp_path / "synth", 5, size=128, seed=2, progress=False)
    (tmp_path / "broken.png").write_bytes(b"not a png")
    from vzero_data.benchmarks.items import image_from_file

    broken = EvalItem("broken", "synth", "Q?", "A", image_from_file(tmp_path / "broken.png"), ("x", "y"))
    entries = [
        *open_benchmark(tmp_path / "synth").items(),
        broken,
        Skipped("gone", "synth", "image not found: x"),
    ]
    seen = []
    tiny_vlm.model.train()
    result = evaluate_model(
        tiny_vlm, entries, batch_size=2, max_new_tokens=4, name="synth", progress=False, on_result=seen.append
    )
    assert tiny_vlm.model.training, "training mode is restored after evaluation"
    tiny_vlm.model.eval()
    assert (
        [r.item_id for r in result.results]
        == [f"synth-s2-{i:06d}" for i in range(5)]
        == [r.item_id for r in seen]
    )
    assert [s.item_id for s in result.skipped] == ["broken", "gone"]
    assert "image could not be decoded" in result.skipped[0].reason
    for r in result.results:
        assert r.correct == (r.prediction == r.answer)
    overall = result.summary().overall
    assert overall.n == 5 and overall.unparseable == sum(not r.parsed for r in result.results)
    metrics = result.metrics()
    assert metrics["eval/synth/n"] == 5.0 and metrics["eval/synth/skipped"] == 2.0
    assert metrics["eval/synth/ci_low"] <= metrics["eval/synth/accuracy"] <= metrics["eval/synth/ci_high"]


def test_batching_does_not_change_greedy_answers(tiny_vlm, tmp_path):
    write_scenes(tmp_path / "synth", 3, size=128, seed=5, progress=False)
    items = list(open_benchmark(tmp_path / "synth").items())
    one = evaluate_model(tiny_vlm, items, batch_size=1, max_new_tokens=6, progress=False)
    three = evaluate_model(tiny_vlm, items, batch_size=3, max_new_tokens=6, progress=False)
    assert [r.response for r in one.results] == [r.response for r in three.results]


def test_custom_template_and_argument_checks(tiny_vlm):
    items = [EvalItem("q", "b", "Q?", "A", _blank, ("x", "y"))]
    templates = PromptTemplates(student="Look: <image>\n{question}", system="Be brief.")
    assert (
        evaluate_model(tiny_vlm, items, templates=templates, max_new_tokens=2, progress=False)
        .summary()
        .overall.n
        == 1
    )
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        evaluate_model(tiny_vlm, items, batch_size=0)


def test_families_taking_nested_image_lists(tmp_path):
    from vzero_core.tiny_models import save_tiny_vlm
    from vzero_core.vlm.models import load_vlm

    vlm = load_vlm(save_tiny_vlm("smolvlm", tmp_path / "smol", image_size=224), device="cpu")
    assert vlm.nested_images
    items = [EvalItem(f"q{i}", "b", "What colour?", "A", _blank, ("red", "blue")) for i in range(3)]
    result = evaluate_model(vlm, items, batch_size=2, max_new_tokens=3, progress=False)
    assert [r.item_id for r in result.results] == ["q0", "q1", "q2"]


def test_the_last_progress_line_shows_the_final_score(tiny_vlm, monkeypatch):
    """Off a terminal the last line `vzero-train eval` leaves is the result's, not the first batch's."""
    import io

    from vzero_core.progress import PlainProgress

    class LogFile(io.StringIO):
        def isatty(self):
            return False

    batches = iter([["A", "A"], ["no idea", "B"]])  # the first batch all right, then worse
    monkeypatch.setattr("vzero_train.evaluate.runner.generate_responses", lambda *a, **k: next(batches))
    monkeypatch.setattr(PlainProgress, "interval", 0.0)
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    log = LogFile()
    monkeypatch.setattr("sys.stderr", log)
    items = [EvalItem(f"q{i}", "b", "Q?", "A", _blank, ("x", "y")) for i in range(4)]
    result = evaluate_model(tiny_vlm, items, batch_size=2, name="b", progress=True)
    summary = result.summary().overall
    assert (summary.correct, summary.unparseable) == (2, 1)
    assert log.getvalue().splitlines()[-1].endswith("acc=0.500, unparsed=1")
