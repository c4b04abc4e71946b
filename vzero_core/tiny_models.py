"""Tiny random models built from configs and saved like real checkpoints, for offline tests and demos.

No model hub is needed: each builder trains (or writes) a small tokenizer offline, builds the model
from a config with random weights, and saves model + processor to a folder that loads through the
same ``from_pretrained`` code a user's real checkpoint goes through. Processors are saved under the
real class names (``Qwen2_5_VLProcessor``, ...), so the folders look like the real thing;
:func:`vzero_core.hf_loading.load_processor` loads them even where torchvision is missing.

Builders are deterministic for a seed. Student and teacher built with the same ``family`` share
a tokenizer (same vocabulary, ids and chat template), whatever their sizes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from vzero_core.hf_loading import image_only_processor_class, save_processor
from vzero_core.names import unknown_name

VLM_FAMILIES = ("qwen2_vl", "qwen2_5_vl", "qwen3_vl", "qwen3_5", "idefics3", "smolvlm")

QWEN_SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
QWEN_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
IDEFICS_SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<fake_token_around_image>",
    "<image>",
    "<global-img>",
    "<end_of_utterance>",
    *(f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)),
)
IDEFICS_CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] | capitalize }}:{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for c in m['content'] %}{% if c['type'] == 'image' %}<image>{% elif c['type'] == 'text' %}"
    "{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<end_of_utterance>\n{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)
_CORPUS = (
    "What is the color of the small triangle near the top left? The answer is red.",
    "What is the shape of the small purple object near the bottom? It is a star. A circle, a square, a diamond.",
    "Answer with the option's letter. (A) blue (B) green (C) yellow (D) orange. The answer is B.",
    "Find the region of the phrase and answer with a bounding box in JSON: "
    '[{"bbox_2d": [120, 45, 300, 310], "label": "cat"}] 0123456789',
    "white black brown cyan pink cross person car dog cat tree sign text letter number",
)

# Processors whose video sub-processor needs torchvision: saved with the video part dropped.
_IMAGE_ONLY_PROCESSORS = {
    "qwen2_vl": "Qwen2VLProcessor",
    "qwen2_5_vl": "Qwen2_5_VLProcessor",
    "qwen3_vl": "Qwen3VLProcessor",
    "qwen3_5": "Qwen3VLProcessor",
    "smolvlm": "SmolVLMProcessor",
    "idefics3": "Idefics3Processor",
}


def build_bpe_tokenizer(
    specials: tuple[str, ...] = QWEN_SPECIAL_TOKENS,
    *,
    eos: str = "<|im_end|>",
    pad: str = "<|endoftext|>",
    chat_template: str = QWEN_CHAT_TEMPLATE,
    vocab_size: int = 512,
):
    """A byte-level BPE tokenizer trained offline on a fixed corpus, wrapped as ``Qwen2Tokenizer``."""
    from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers, trainers
    from transformers import Qwen2Tokenizer

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(specials),
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(list(_CORPUS) * 10, trainer)
    model = json.loads(bpe.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    tok = Qwen2Tokenizer(vocab=model["vocab"], merges=merges, eos_token=eos, pad_token=pad, unk_token=pad)
    tok.add_tokens([AddedToken(t, special=True, normalized=False) for t in specials], special_tokens=True)
    tok.chat_template = chat_template
    return tok


def _qwen_vlm(family: str, hidden: int, layers: int, image_size: int, tok) -> tuple[Any, Any]:
    import transformers as T

    ids = {
        key: tok.convert_tokens_to_ids(token)
        for key, token in (
            ("image_token_id", "<|image_pad|>"),
            ("video_token_id", "<|video_pad|>"),
            ("vision_start_token_id", "<|vision_start|>"),
            ("vision_end_token_id", "<|vision_end|>"),
        )
    }
    heads = max(2, hidden // 16)
    head_dim = hidden // heads
    half = head_dim // 2
    mrope = [half - 2 * (half // 3), half // 3, half // 3]
    text: dict[str, Any] = dict(
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=4096,
        rope_parameters=dict(rope_type="default", rope_theta=1e4, mrope_section=mrope),
        bos_token_id=tok.convert_tokens_to_ids("<|im_start|>"),
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    clip_mean, clip_std = [0.48145466, 0.4578275, 0.40821073], [0.26862954, 0.26130258, 0.27577711]
    if family in ("qwen3_vl", "qwen3_5"):
        patch, mean, std = 16, [0.5] * 3, [0.5] * 3
        text.update(head_dim=head_dim)
        text["rope_parameters"]["mrope_interleaved"] = True
        vision = dict(
            depth=2,
            hidden_size=hidden,
            intermediate_size=2 * hidden,
            num_heads=2,
            out_hidden_size=hidden,
            patch_size=16,
            num_position_embeddings=256,
        )
        if family == "qwen3_vl":
            cfg_cls, model_cls = T.Qwen3VLConfig, T.Qwen3VLForConditionalGeneration
            vision["deepstack_visual_indexes"] = [0, 1]
        else:
            cfg_cls, model_cls = T.Qwen3_5Config, T.Qwen3_5ForConditionalGeneration
            text.update(
                linear_key_head_dim=head_dim,
                linear_value_head_dim=head_dim,
                linear_num_key_heads=2,
                linear_num_value_heads=2,
                full_attention_interval=2,
            )
            text["rope_parameters"]["partial_rotary_factor"] = 1.0
    elif family == "qwen2_5_vl":
        patch, mean, std = 14, clip_mean, clip_std
        cfg_cls, model_cls = T.Qwen2_5_VLConfig, T.Qwen2_5_VLForConditionalGeneration
        vision = dict(
            depth=2,
            hidden_size=hidden,
            intermediate_size=2 * hidden,
            num_heads=2,
            out_hidden_size=hidden,
            patch_size=14,
            window_size=112,
            fullatt_block_indexes=[1],
        )
    else:
        patch, mean, std = 14, clip_mean, clip_std
        cfg_cls, model_cls = T.Qwen2VLConfig, T.Qwen2VLForConditionalGeneration
        vision = dict(depth=2, embed_dim=hidden, hidden_size=hidden, mlp_ratio=2, num_heads=2, patch_size=14)
    config = cfg_cls(text_config=text, vision_config=vision, **ids)
    model = model_cls(config)
    image_processor = T.Qwen2VLImageProcessorPil(
        patch_size=patch,
        merge_size=2,
        temporal_patch_size=2,
        image_mean=mean,
        image_std=std,
        size={"shortest_edge": 32 * 32, "longest_edge": image_size * image_size},
    )
    proc_cls = image_only_processor_class(_IMAGE_ONLY_PROCESSORS[family])
    processor = proc_cls(image_processor=image_processor, tokenizer=tok, chat_template=QWEN_CHAT_TEMPLATE)
    return model, processor


def _idefics_vlm(family: str, hidden: int, layers: int, image_size: int, tok) -> tuple[Any, Any]:
    import transformers as T

    patch, scale = 16, 2
    if image_size % (patch * scale):
        raise ValueError(f"{family}: image_size must be a multiple of {patch * scale}, got {image_size}")
    vision = dict(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        image_size=image_size,
        patch_size=patch,
    )
    text = dict(
        model_type="llama",
        vocab_size=len(tok),
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=max(2, hidden // 16),
        num_key_value_heads=max(1, hidden // 32),
        max_position_embeddings=4096,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id,
        bos_token_id=tok.pad_token_id,
    )
    if family == "idefics3":
        cfg_cls, model_cls, ip_cls = (
            T.Idefics3Config,
            T.Idefics3ForConditionalGeneration,
            T.Idefics3ImageProcessorPil,
        )
    else:
        cfg_cls, model_cls, ip_cls = (
            T.SmolVLMConfig,
            T.SmolVLMForConditionalGeneration,
            T.SmolVLMImageProcessorPil,
        )
    config = cfg_cls(
        vision_config=vision,
        text_config=text,
        scale_factor=scale,
        image_token_id=tok.convert_tokens_to_ids("<image>"),
    )
    model = model_cls(config)
    image_processor = ip_cls(
        do_image_splitting=False,
        size={"longest_edge": image_size},
        max_image_size={"longest_edge": image_size},
    )
    seq_len = (image_size // patch) ** 2 // scale**2
    proc_cls = image_only_processor_class(_IMAGE_ONLY_PROCESSORS[family])
    processor = proc_cls(
        image_processor=image_processor,
        tokenizer=tok,
        image_seq_len=seq_len,
        chat_template=IDEFICS_CHAT_TEMPLATE,
    )
    return model, processor


def save_tiny_vlm(
    family: str,
    out_dir: str | os.PathLike[str],
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    image_size: int = 224,
    seed: int = 0,
) -> Path:
    """Build a tiny random image-text-to-text model of ``family`` and save it with its processor.

    ``image_size`` bounds the processor's resize (fewer image tokens, faster tests). Returns the folder.
    """
    import torch

    if family not in VLM_FAMILIES:
        raise ValueError(unknown_name("VLM family", family, VLM_FAMILIES))
    if hidden_size % 32:
        raise ValueError(f"hidden_size must be a multiple of 32, got {hidden_size}")
    torch.manual_seed(seed)
    if family in ("idefics3", "smolvlm"):
        tok = build_bpe_tokenizer(
            IDEFICS_SPECIAL_TOKENS, eos="<end_of_utterance>", chat_template=IDEFICS_CHAT_TEMPLATE
        )
        model, processor = _idefics_vlm(family, hidden_size, num_layers, image_size, tok)
    else:
        tok = build_bpe_tokenizer()
        model, processor = _qwen_vlm(family, hidden_size, num_layers, image_size, tok)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.generation_config.eos_token_id = tok.eos_token_id
    out = Path(out_dir)
    model.save_pretrained(out)
    save_processor(processor, out)
    return out
