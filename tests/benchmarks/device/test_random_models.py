"""Paper-scale model folders without weights: the real config (image token ids set to the offline
tokenizer's), and ``from_pretrained`` building it with random weights on the device."""

from __future__ import annotations

import json

import pytest

from benchmarks.device.random_models import (
    TOKEN_IDS,
    model_folder,
    random_weights,
    recipe_models,
    shipped_config_dir,
)


def test_the_folder_holds_the_real_architecture_with_the_tokenizers_image_ids(tmp_path):
    from transformers import AutoConfig

    from vzero_core.hf_loading import load_processor

    student, _ = recipe_models()
    folder = model_folder(student, tmp_path / "m")
    config, shipped = (
        AutoConfig.from_pretrained(folder),
        AutoConfig.from_pretrained(shipped_config_dir(student)),
    )
    tok = load_processor(folder).tokenizer
    for key, token in TOKEN_IDS.items():
        assert getattr(config, key) == tok.convert_tokens_to_ids(token)
    for key in ("hidden_size", "num_hidden_layers", "vocab_size", "head_dim"):
        assert getattr(config.text_config, key) == getattr(shipped.text_config, key)
    assert config.vision_config.depth == shipped.vision_config.depth
    assert not any(p.suffix in (".safetensors", ".bin") for p in folder.iterdir())
    settings = json.loads((shipped_config_dir(student) / "preprocessor_config.json").read_text())
    assert load_processor(folder).image_processor.patch_size == settings["patch_size"]


@pytest.mark.needs_model
def test_from_pretrained_builds_random_weights_that_take_the_processors_image(tmp_path):
    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText

    from vzero_core.vlm.models import load_vlm
    from vzero_core.vlm.prompts import build_messages, encode_prompts, render_prompt

    student, _ = recipe_models()
    vocab = json.loads((shipped_config_dir(student) / "config.json").read_text())["text_config"]["vocab_size"]
    folder = model_folder(student, tmp_path / "m", shrink=64)
    with random_weights("cpu"):
        vlm = load_vlm(str(folder), device="cpu", dtype="float32", trainable=True)
    assert vlm.model.get_input_embeddings().weight.shape[0] == vocab  # the real vocabulary
    prompt = render_prompt(vlm.tokenizer, build_messages("<image>\n{question}", "What is it?"))
    image = Image.new("RGB", (256, 256), "red")  # 16 x 16 patches of 16 px, merged 2 x 2: 64 tokens
    enc = encode_prompts(vlm.processor, [prompt], [[image]], nested_images=False)
    assert int((enc["input_ids"] == vlm.model.config.image_token_id).sum()) == 64
    with torch.no_grad():
        assert vlm.model(**enc).logits.shape[-1] == vocab
    with pytest.raises(OSError):  # outside the context, from_pretrained wants weights again
        AutoModelForImageTextToText.from_pretrained(folder)
