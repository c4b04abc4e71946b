"""qwen-vl: frame mapping against known values, the end-to-end call path on tiny models, and a
scripted answer decoded, parsed and mapped through the real processor."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from vzero_core.box_formats import qwen25_smart_resize
from vzero_data.grounding import get_grounder
from vzero_data.grounding.backends.qwen_vl import answer_regions, map_answer_box

FAMILIES = ["qwen2_5_vl", "qwen3_vl"]
SIZES = [(320, 200), (150, 400), (256, 256), (1000, 500)]


def noise(width, height, seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 255, (height, width, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    "xyxy, frame, size, pixels, expected",
    [
        # 0-1000 grid (Qwen2-VL, Qwen3-VL): fractions of the original size
        ([100, 200, 500, 800], "grid1000", (1920, 1080), (0, 0), [192, 216, 960, 864]),
        ([0, 0, 1000, 1000], "grid1000", (640, 480), (0, 0), [0, 0, 640, 480]),
        # Qwen2.5-VL: 1000x500 with max_pixels 50176 is resized to 308x140 (multiples of 28)
        ([30.8, 14, 154, 70], "qwen25_resized", (1000, 500), (1024, 50176), [100, 50, 500, 250]),
        # default pixel bounds: 1000x500 -> 1008x504
        ([100.8, 50.4, 504, 252], "qwen25_resized", (1000, 500), (3136, 12845056), [100, 50, 500, 250]),
    ],
)
def test_frame_mapping_known_values(xyxy, frame, size, pixels, expected):
    mapped = map_answer_box(xyxy, frame, *size, min_pixels=pixels[0] or 1, max_pixels=pixels[1] or 1)
    assert mapped == pytest.approx(expected)


def test_answer_regions_parse_map_and_clip():
    answer = '```json\n[{"bbox_2d": [500, 500, 1100, 900], "label": "cat"}, {"bbox_2d": [5, 5'
    (region,) = answer_regions(answer, 0.7, "cat", "grid1000", 200, 100, {}, min_pixels=1, max_pixels=1)
    assert region.box.to_list() == [100, 50, 200, 90] and region.score == 0.7
    assert (
        answer_regions("no box here", 0.7, "cat", "grid1000", 200, 100, {}, min_pixels=1, max_pixels=1) == []
    )


@pytest.fixture(scope="module", params=FAMILIES)
def qwen(request, tiny_model_path):
    return get_grounder("qwen-vl", model=str(tiny_model_path(request.param)), device="cpu", max_new_tokens=12)


def test_frame_is_chosen_by_model_family(qwen):
    expected = "qwen25_resized" if qwen.model.config.model_type == "qwen2_5_vl" else "grid1000"
    assert qwen.frame == expected and qwen.provenance["params"]["frame"] == expected


def test_garbage_generation_gives_lists_never_errors(qwen):
    images = [noise(w, h, i) for i, (w, h) in enumerate(SIZES)]
    results = qwen.locate(images, ["red triangle", "cat", "the sign. the door", "car"])
    assert len(results) == len(images) and all(isinstance(r, list) for r in results)
    for image, regions in zip(images, results, strict=True):
        for r in regions:
            assert 0 <= r.box.x1 < r.box.x2 <= image.width and 0 <= r.box.y1 < r.box.y2 <= image.height


def test_qwen25_converter_matches_what_the_processor_feeds_the_model(tiny_model_path):
    qwen = get_grounder("qwen-vl", model=str(tiny_model_path("qwen2_5_vl")), device="cpu")
    for width, height in SIZES + [(2000, 300), (60, 90)]:
        grid = qwen._prepare([noise(width, height)], ["cat"])["image_grid_thw"][0]
        seen = (int(grid[1]) * 14, int(grid[2]) * 14)
        assert seen == qwen25_smart_resize(
            height, width, min_pixels=qwen.min_pixels, max_pixels=qwen.max_pixels
        )


def scripted_generate(qwen, answer):
    """Replace generation with a fixed answer (plus end of turn), emitted with probability ~1."""
    tokenizer = qwen.processor.tokenizer
    answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]

    def generate(input_ids, **kwargs):
        batch = input_ids.shape[0]
        new = torch.tensor([answer_ids] * batch)
        scores = []
        for step in range(len(answer_ids)):
            logits = torch.full((batch, qwen.model.config.get_text_config().vocab_size), -30.0)
            logits[:, answer_ids[step]] = 30.0
            scores.append(logits)
        return SimpleNamespace(sequences=torch.cat([input_ids, new], 1), scores=tuple(scores))

    return generate


@pytest.mark.parametrize(
    "family, answer, expected",
    [
        (
            "qwen2_5_vl",
            '```json\n[{"bbox_2d": [30.8, 14, 154, 70], "label": "cat"}]\n```',
            [100, 50, 500, 250],
        ),
        ("qwen3_vl", '[{"bbox_2d": [100, 100, 500, 500], "label": "cat"}]', [100, 50, 500, 250]),
        ("qwen3_vl", "<|box_start|>(100,100),(500,500)<|box_end|>", [100, 50, 500, 250]),
    ],
)
def test_scripted_answer_maps_to_original_pixels(tiny_model_path, monkeypatch, family, answer, expected):
    qwen = get_grounder("qwen-vl", model=str(tiny_model_path(family)), device="cpu")
    monkeypatch.setattr(qwen.model, "generate", scripted_generate(qwen, answer))
    (regions,) = qwen.locate([noise(1000, 500)], ["cat"])
    assert [r.box.to_list() for r in regions] == [pytest.approx(expected, abs=1e-3)]
    assert regions[0].score == pytest.approx(1.0, abs=1e-6)


def test_unknown_family_needs_an_explicit_frame(tiny_model_path, monkeypatch):
    from vzero_data.grounding.backends.qwen_vl import QwenVLGrounder

    qwen = get_grounder("qwen-vl", model=str(tiny_model_path("qwen3_vl")), device="cpu")
    monkeypatch.setattr(qwen.model.config, "model_type", "llava")
    with pytest.raises(ValueError, match="set frame='qwen25_resized' or frame='grid1000'"):
        QwenVLGrounder._resolve_frame(qwen)
