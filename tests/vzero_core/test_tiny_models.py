"""The tiny-model factory: every family saves a folder that loads through the normal HF code paths."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from tests.tiny_detectors import DETECTOR_FAMILIES, save_tiny_model
from vzero_core.hf_loading import load_processor, resolve_device, resolve_dtype
from vzero_core.tiny_models import VLM_FAMILIES, save_tiny_vlm

pytestmark = pytest.mark.needs_model

IMAGE = Image.fromarray(np.random.default_rng(0).integers(0, 255, (150, 260, 3), dtype=np.uint8))


@pytest.mark.parametrize("family", VLM_FAMILIES)
def test_tiny_vlm_loads_like_a_real_checkpoint_and_generates(family, tmp_path):
    from transformers import AutoModelForImageTextToText

    path = save_tiny_vlm(family, tmp_path / family)
    config = json.loads((path / "processor_config.json").read_text())
    assert not config["processor_class"].startswith("ImageOnly"), "saved under the real class name"
    model = AutoModelForImageTextToText.from_pretrained(path).eval()
    processor = load_processor(path)
    assert processor.image_processor is not None
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What colour?"}]}]
    prompt = processor.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    images = [[IMAGE]] if family in ("idefics3", "smolvlm") else [IMAGE]
    inputs = processor(images=images, text=[prompt], return_tensors="pt")
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=4, min_new_tokens=4, do_sample=True)
    assert out.shape == (1, inputs["input_ids"].shape[1] + 4)


def test_student_and_teacher_of_one_family_share_the_tokenizer(tmp_path):
    small = load_processor(save_tiny_vlm("qwen2_5_vl", tmp_path / "s", hidden_size=64)).tokenizer
    big = load_processor(save_tiny_vlm("qwen2_5_vl", tmp_path / "t", hidden_size=128, num_layers=3)).tokenizer
    assert small.get_vocab() == big.get_vocab()
    assert small.chat_template == big.chat_template


@pytest.mark.parametrize("family", DETECTOR_FAMILIES)
def test_tiny_detectors_load_with_auto_classes(family, tmp_path):
    from transformers import AutoModelForZeroShotObjectDetection

    path = save_tiny_model(family, tmp_path / family)
    assert AutoModelForZeroShotObjectDetection.from_pretrained(path) is not None
    assert load_processor(path).image_processor is not None


@pytest.mark.parametrize(
    "family, kwargs, message",
    [
        ("llava", {}, "unknown model family 'llava'"),
        ("qwen2_5_vl", {"hidden_size": 48}, "multiple of 32"),
        ("smolvlm", {"image_size": 200}, "multiple of 32"),
    ],
)
def test_bad_factory_arguments(family, kwargs, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        save_tiny_model(family, tmp_path / "x", **kwargs)


def test_device_and_dtype_resolution():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cuda", "mps", "cpu")
    assert resolve_dtype("auto", torch.device("cpu")) is torch.float32
    assert resolve_dtype("bfloat16", torch.device("cpu")) is torch.bfloat16
    with pytest.raises(ValueError, match="unknown dtype 'fp8'"):
        resolve_dtype("fp8", torch.device("cpu"))


def test_load_processor_names_the_folder_when_nothing_declares_a_processor(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="cannot load an image processor"):
        load_processor(tmp_path)


def test_folders_saved_with_the_old_private_class_name_still_load(tmp_path):
    """Checkpoints written before save_processor named vzero's runtime-only subclass in their files."""
    path = save_tiny_model("qwen2_5_vl", tmp_path / "m")
    for name in ("processor_config.json", "tokenizer_config.json"):
        config = json.loads((path / name).read_text())
        config["processor_class"] = "ImageOnlyQwen2_5_VLProcessor"
        (path / name).write_text(json.dumps(config))
    assert load_processor(path).image_processor is not None


def test_saved_folders_name_no_private_class_anywhere(tmp_path):
    path = save_tiny_model("qwen2_5_vl", tmp_path / "m")
    assert not [p.name for p in path.glob("*.json") if "ImageOnly" in p.read_text()]
