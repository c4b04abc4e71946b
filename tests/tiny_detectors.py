"""Tiny random detectors (Grounding DINO, OWLv2) built from configs and saved like real checkpoints,
for the grounding tests and the grounding benchmark. The tiny VLMs the product itself builds
(``tiny:<family>`` model specs) are :mod:`vzero_core.tiny_models`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from vzero_core.names import unknown_name
from vzero_core.tiny_models import VLM_FAMILIES, save_tiny_vlm

DETECTOR_FAMILIES = ("grounding_dino", "owlv2")


def save_tiny_grounding_dino(
    out_dir: str | os.PathLike[str], *, image_size: int = 224, seed: int = 0
) -> Path:
    """A tiny random Grounding DINO (Swin + BERT) with an offline WordPiece tokenizer."""
    import torch
    from transformers import (
        BertConfig,
        BertTokenizer,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoImageProcessorPil,
        GroundingDinoProcessor,
        SwinConfig,
    )

    torch.manual_seed(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
        ".",
        ",",
        "a",
        "the",
        "small",
        "red",
        "blue",
        "triangle",
    ]
    words += list(letters) + [f"##{c}" for c in letters]
    tok = BertTokenizer(vocab={w: i for i, w in enumerate(dict.fromkeys(words))})
    text = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    swin = SwinConfig(
        embed_dim=16,
        depths=[1, 1, 1, 1],
        num_heads=[1, 1, 2, 2],
        window_size=7,
        out_features=["stage2", "stage3", "stage4"],
    )
    config = GroundingDinoConfig(
        backbone_config=swin,
        text_config=text,
        d_model=32,
        num_queries=30,
        encoder_layers=1,
        decoder_layers=2,  # 1 breaks weight tying
        encoder_ffn_dim=64,
        decoder_ffn_dim=64,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        max_text_len=32,
    )
    model = GroundingDinoForObjectDetection(config)
    image_processor = GroundingDinoImageProcessorPil(
        size={"shortest_edge": image_size, "longest_edge": image_size}
    )
    processor = GroundingDinoProcessor(image_processor=image_processor, tokenizer=tok)
    out = Path(out_dir)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def save_tiny_owlv2(out_dir: str | os.PathLike[str], *, image_size: int = 224, seed: int = 0) -> Path:
    """A tiny random OWLv2 with an offline byte-level CLIP tokenizer (start token not id 0)."""
    import torch
    from tokenizers import pre_tokenizers
    from transformers import (
        CLIPTokenizer,
        Owlv2Config,
        Owlv2ForObjectDetection,
        Owlv2ImageProcessorPil,
        Owlv2Processor,
    )

    torch.manual_seed(seed)
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    # OWL treats input_ids[:, 0] > 0 as the query mask: special tokens go last so BOS is never id 0.
    vocab = {
        t: i
        for i, t in enumerate(
            alphabet + [c + "</w>" for c in alphabet] + ["<|startoftext|>", "<|endoftext|>"]
        )
    }
    tok = CLIPTokenizer(vocab=vocab, merges=[])
    config = Owlv2Config(
        text_config=dict(
            vocab_size=len(tok),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            max_position_embeddings=16,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
        ),
        vision_config=dict(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=1,
            num_attention_heads=2,
            image_size=image_size,
            patch_size=32,
        ),
        projection_dim=32,
    )
    model = Owlv2ForObjectDetection(config)
    image_processor = Owlv2ImageProcessorPil(size={"height": image_size, "width": image_size})
    processor = Owlv2Processor(image_processor=image_processor, tokenizer=tok)
    out = Path(out_dir)
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def save_tiny_model(family: str, out_dir: str | os.PathLike[str], **kwargs: Any) -> Path:
    """A tiny detector of ``family`` (:data:`DETECTOR_FAMILIES`) or a tiny VLM (``VLM_FAMILIES``)."""
    if family == "grounding_dino":
        return save_tiny_grounding_dino(out_dir, **kwargs)
    if family == "owlv2":
        return save_tiny_owlv2(out_dir, **kwargs)
    if family in VLM_FAMILIES:
        return save_tiny_vlm(family, out_dir, **kwargs)
    raise ValueError(unknown_name("model family", family, VLM_FAMILIES + DETECTOR_FAMILIES))
