"""Visual tokens per image: the plan's count equals what the model's processor actually produces."""

from __future__ import annotations

import pytest
from PIL import Image

from vzero_train.memory_plan.model_shapes import load_model_shape
from vzero_train.memory_plan.visual_tokens import VisualTokens

SIZES = [(224, 224), (640, 480), (37, 500), (1000, 90), (33, 33), (301, 157)]


@pytest.mark.parametrize("family", ["qwen2_5_vl", "qwen3_vl", "qwen3_5"])
def test_token_count_matches_the_processor_output(tiny_vlm, family):
    """The placeholder tokens the real processor writes into a prompt for an image of each size."""
    from vzero_core.hf_loading import load_processor

    folder = tiny_vlm(family)
    processor = load_processor(folder)
    pad = processor.tokenizer.convert_tokens_to_ids(processor.image_token)
    counter = VisualTokens(load_model_shape(folder))
    for width, height in SIZES:
        out = processor(
            text=[f"look {processor.image_token} here"],
            images=[Image.new("RGB", (width, height))],
            return_tensors="pt",
        )
        expected = int((out["input_ids"] == pad).sum())
        assert counter.tokens(width, height) == expected, (family, width, height)


@pytest.mark.parametrize(
    "width, height, tokens",
    [
        (1280, 960, 40 * 30),  # multiples of 32 px: one token per 32x32 block
        (100, 80, 8 * 9),  # below min_pixels (256x256): scaled up to 256x288
        (4096, 4096, 128 * 128),  # exactly max_pixels
        (8192, 4096, 181 * 90),  # over max_pixels: scaled down to 5792x2880
    ],
)
def test_shipped_qwen3_settings_give_hand_computed_counts(width, height, tokens):
    """Qwen3-VL's published processor settings: 16 px patches merged 2x2, 65536..16777216 pixels."""
    counter = VisualTokens(load_model_shape("Qwen/Qwen3-VL-8B-Instruct"))
    assert counter.tokens(width, height) == tokens
    assert counter.patches(width, height) == 4 * tokens


def test_an_image_without_pixels_is_refused():
    counter = VisualTokens(load_model_shape("Qwen/Qwen3.5-4B"))
    with pytest.raises(ValueError, match="0x10 pixels"):
        counter.tokens(0, 10)
