"""Loading student and teacher VLMs, and checking that they can be distilled into each other.

Models load through transformers' image-text-to-text auto class and processors through
:func:`vzero_core.hf_loading.load_processor`, from a local folder or a hub id. Distillation scores the
student's exact token ids under the teacher, so the two must share a tokenizer: same vocabulary, same
special tokens, same chat template. :func:`check_same_tokenizer` fails loudly otherwise.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from vzero_core.hf_loading import load_processor, resolve_device, resolve_dtype
from vzero_core.model_source import resolve_model_source

logger = logging.getLogger(__name__)

# model_type -> family name used across vzero_train (prompt encoding differs between the two groups).
QWEN_FAMILIES = {
    "qwen2_vl": "qwen2_vl",
    "qwen2_5_vl": "qwen2_5_vl",
    "qwen3_vl": "qwen3_vl",
    "qwen3_vl_moe": "qwen3_vl",
    "qwen3_5": "qwen3_5",
    "qwen3_5_moe": "qwen3_5",
}
IDEFICS_FAMILIES = {"idefics3": "idefics3", "smolvlm": "smolvlm"}
SUPPORTED_MODEL_TYPES = {**QWEN_FAMILIES, **IDEFICS_FAMILIES}


class ModelCompatibilityError(ValueError):
    """Student and teacher cannot be paired (different tokenizers or chat templates)."""


@dataclass
class LoadedVLM:
    """A model with its processor and the facts the trainer needs about it."""

    model: Any
    processor: Any
    family: str
    name_or_path: str

    @property
    def tokenizer(self) -> Any:
        return self.processor.tokenizer

    @property
    def nested_images(self) -> bool:
        """Idefics3/SmolVLM processors take images as one list per prompt; Qwen takes a flat list."""
        return self.family in IDEFICS_FAMILIES


def model_family(model_type: str) -> str:
    """Map a config's ``model_type`` to a supported family, or fail listing the supported ones."""
    try:
        return SUPPORTED_MODEL_TYPES[model_type]
    except KeyError:
        known = ", ".join(sorted(SUPPORTED_MODEL_TYPES))
        raise ValueError(f"unsupported model type {model_type!r}; vzero_train supports: {known}") from None


def load_vlm(
    name_or_path: str | os.PathLike[str],
    *,
    device: str = "auto",
    dtype: str = "auto",
    trainable: bool = False,
) -> LoadedVLM:
    """Load an image-text-to-text model and its processor onto ``device`` in ``dtype``.

    ``name_or_path`` is a model folder, a training checkpoint ``step_N/`` (its ``model/``) or a hub id
    (:func:`vzero_core.model_source.resolve_model_source`). Frozen models (``trainable=False``) are
    put in eval mode with gradients off.
    """
    from transformers import AutoConfig, AutoModelForImageTextToText

    from vzero_core.model_source import looks_like_local_path, require_model_source

    source = resolve_model_source(name_or_path)
    name_or_path = source.path
    if not os.path.exists(name_or_path) and not looks_like_local_path(name_or_path):
        require_model_source(name_or_path)  # a hub id: fail at once when offline or unreachable
    try:
        config = AutoConfig.from_pretrained(name_or_path)
    except OSError as exc:
        if source.checkpoint is None and not os.path.exists(name_or_path):
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FileNotFoundError(
                f"no such folder: {name_or_path} (nor a hub model of that id here: {first_line})"
            ) from exc
        raise
    family = model_family(config.model_type)
    torch_device = resolve_device(device)
    model = AutoModelForImageTextToText.from_pretrained(
        name_or_path, dtype=resolve_dtype(dtype, torch_device)
    )
    model.to(torch_device)
    if trainable:
        model.train()
    else:
        model.eval()
        model.requires_grad_(False)
    processor = load_processor(name_or_path)
    processor.tokenizer.padding_side = "left"  # generation continues from the right edge
    logger.info("loaded %s (%s) on %s", name_or_path, family, torch_device)
    return LoadedVLM(model=model, processor=processor, family=family, name_or_path=name_or_path)


def check_same_tokenizer(
    student: Any, teacher: Any, *, names: tuple[str, str] = ("student", "teacher")
) -> None:
    """Raise :class:`ModelCompatibilityError` unless the two tokenizers map text to the same ids.

    Compares vocabularies (reporting a few differing tokens), special tokens and chat templates: a
    template mismatch silently biases teacher log-probs, so it is an error too.
    """
    a_name, b_name = names
    a_vocab, b_vocab = student.get_vocab(), teacher.get_vocab()
    if a_vocab != b_vocab:
        differing = sorted(t for t in set(a_vocab) | set(b_vocab) if a_vocab.get(t) != b_vocab.get(t))
        raise ModelCompatibilityError(
            f"{a_name} and {b_name} tokenizers differ: vocab sizes {len(a_vocab)} vs {len(b_vocab)}, "
            f"{len(differing)} tokens map to different ids (e.g. {differing[:5]}); V-Zero needs one shared tokenizer"
        )
    for attr in ("eos_token", "pad_token", "bos_token"):
        if getattr(student, attr, None) != getattr(teacher, attr, None):
            raise ModelCompatibilityError(
                f"{a_name} and {b_name} tokenizers differ in {attr}: "
                f"{getattr(student, attr, None)!r} vs {getattr(teacher, attr, None)!r}"
            )
    if (student.chat_template or "") != (teacher.chat_template or ""):
        raise ModelCompatibilityError(
            f"{a_name} and {b_name} use different chat templates; teacher log-probs would be scored in a "
            "differently formatted context. Use models of one family, or pass the same template to both."
        )
