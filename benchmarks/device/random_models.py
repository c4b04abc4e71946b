"""Paper-scale models with random weights, from the architecture configs vzero ships, written as no
more than a config and a processor.

No hub is reachable and writing 20 GB of random weights to load them back would spend the GPU
machine's minutes on disk traffic, so :func:`model_folder` writes a folder that holds the model's
real ``config.json`` and a processor (vzero's offline BPE tokenizer with the Qwen special tokens,
the real image processor settings), and :func:`random_weights` makes ``from_pretrained`` of the
image-text-to-text auto class build such a folder's model from its config, directly on the device,
instead of reading weights. Everything else (``load_vlm``, the trainer, the teacher) runs unchanged.

The tokenizer has a few hundred tokens; the model keeps its real vocabulary (so the logits, the
embedding and its optimizer state have their real sizes), and the config's image and vision-marker
token ids are set to the tokenizer's. ``shrink`` keeps the architecture and vocabulary but makes
the layers tiny, for the CPU smoke run.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "vzero_train" / "model_configs"
RECIPE = "qwen3vl_2b_from_8b"  # the paper-scale recipe the GPU check measures
TOKEN_IDS = {
    "image_token_id": "<|image_pad|>",
    "video_token_id": "<|video_pad|>",
    "vision_start_token_id": "<|vision_start|>",
    "vision_end_token_id": "<|vision_end|>",
}


def recipe_models(recipe: str = RECIPE) -> tuple[str, str]:
    """The hub ids of ``recipe``'s student and teacher."""
    from vzero_train.config import load_train_config

    config = load_train_config(recipe)
    return config.student, config.teacher.path


def shipped_config_dir(hub_id: str) -> Path:
    return SHIPPED / hub_id.replace("/", "--")


def shrunk(config: Any, hidden: int, vocab: int | None = None) -> Any:
    """A Qwen3-VL ``config`` with tiny layers (``hidden`` wide, 2 deep, 4 heads): same architecture and
    token ids, same vocabulary unless ``vocab`` is given."""
    data = config.to_dict()
    text, vision = data["text_config"], data["vision_config"]
    if vocab:
        text["vocab_size"] = vocab
    head_dim = hidden // 4
    half = head_dim // 2
    text.update(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=head_dim,
    )
    text["rope_parameters"] = {
        **text["rope_parameters"],
        "mrope_section": [half - 2 * (half // 3), half // 3, half // 3],
    }
    text.pop("layer_types", None)  # derived from the layer count
    vision.update(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=hidden)
    if "deepstack_visual_indexes" in vision:
        vision["deepstack_visual_indexes"] = [0, 1]
    return type(config).from_dict(data)


def model_folder(hub_id: str, out: Path, *, shrink: int | None = None, vocab: int | None = None) -> Path:
    """``out`` holding the shipped config of ``hub_id`` (image token ids set to the offline tokenizer's;
    layers ``shrink`` wide and ``vocab`` tokens when given), its processor and a generation config.
    No weights."""
    from transformers import AutoConfig, GenerationConfig, Qwen2VLImageProcessorPil

    from vzero_core.hf_loading import image_only_processor_class, save_processor
    from vzero_core.tiny_models import QWEN_CHAT_TEMPLATE, build_bpe_tokenizer

    source = shipped_config_dir(hub_id)
    config = AutoConfig.from_pretrained(source)
    tok = build_bpe_tokenizer()
    for key, token in TOKEN_IDS.items():
        setattr(config, key, tok.convert_tokens_to_ids(token))
    if shrink:
        config = shrunk(config, shrink, vocab)
    out.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(out)
    settings = json.loads((source / "preprocessor_config.json").read_text())
    keys = ("size", "patch_size", "temporal_patch_size", "merge_size", "image_mean", "image_std")
    image_processor = Qwen2VLImageProcessorPil(**{k: settings[k] for k in keys if k in settings})
    processor_class = image_only_processor_class(settings.get("processor_class", "Qwen3VLProcessor"))
    processor = processor_class(
        image_processor=image_processor, tokenizer=tok, chat_template=QWEN_CHAT_TEMPLATE
    )
    save_processor(processor, out)
    GenerationConfig(pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id).save_pretrained(out)
    return out


def build_random(folder: str | Path, device: Any, dtype: Any) -> Any:
    """The image-text-to-text model of ``folder``'s config with random weights, made on ``device``."""
    import torch
    from transformers import AutoConfig, AutoModelForImageTextToText, GenerationConfig

    config = AutoConfig.from_pretrained(folder)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = AutoModelForImageTextToText.from_config(config)
    finally:
        torch.set_default_dtype(previous)
    if (Path(folder) / "generation_config.json").is_file():
        model.generation_config = GenerationConfig.from_pretrained(folder)
    return model.to(dtype)


@contextlib.contextmanager
def random_weights(device: Any) -> Iterator[None]:
    """Inside: ``AutoModelForImageTextToText.from_pretrained(folder, dtype=...)`` builds the folder's
    model with random weights on ``device`` (see the module docstring); outside, as before."""
    import torch
    from transformers import AutoModelForImageTextToText

    def from_pretrained(folder: str | Path, *args: Any, dtype: Any = None, **kwargs: Any) -> Any:
        return build_random(folder, device, dtype if isinstance(dtype, torch.dtype) else torch.float32)

    with mock.patch.object(AutoModelForImageTextToText, "from_pretrained", from_pretrained):
        yield
