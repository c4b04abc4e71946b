"""A model's architecture numbers and exact parameter counts, from its config alone (no weights).

The config comes from the model's local folder when the recipe names one (its own ``config.json``),
else from the copy shipped in ``vzero_train/model_configs/`` for the hub ids the shipped recipes
name (see its README for the sources). Parameters are counted by building the model on the meta
device: every tensor has its real shape and no memory, so the count is exact for what transformers
loads (tied embeddings counted once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHIPPED_CONFIGS = Path(__file__).resolve().parent.parent / "model_configs"


class ModelConfigError(ValueError):
    """No usable config for a model: the message names the model, the file or the field."""


@dataclass(frozen=True)
class TextShape:
    """The language model's sizes that memory depends on."""

    layers: int
    hidden: int
    intermediate: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    full_attention_layers: int
    # Qwen3.5's linear-attention (gated delta) layers: a fixed-size state instead of a KV cache
    linear_layers: int = 0
    linear_key_heads: int = 0
    linear_value_heads: int = 0
    linear_key_dim: int = 0
    linear_value_dim: int = 0
    linear_conv_kernel: int = 0


@dataclass(frozen=True)
class VisionShape:
    depth: int
    hidden: int
    intermediate: int
    patch_size: int
    merge_size: int


@dataclass(frozen=True)
class ModelShape:
    """One model: where its config came from, its family, its sizes and parameter counts.

    ``block_params`` are the parameters inside repeated blocks (decoder layers, vision blocks), the
    part a per-layer FSDP wrap shards; the rest (embeddings, output head, norms, patch embedding,
    merger) stays whole on every process when only the blocks are sharded."""

    name: str
    folder: Path
    origin: str  # "local folder" or "shipped config"
    model_type: str
    params: int
    block_params: int
    largest_block_params: int
    text: TextShape
    vision: VisionShape | None
    preprocessor: dict[str, Any] = field(default_factory=dict)


def config_folder(name: str) -> tuple[Path, str]:
    """The folder holding ``name``'s ``config.json``: a local model or checkpoint folder, else the
    shipped copy for that hub id. Raises :class:`ModelConfigError` naming what is missing."""
    from vzero_core.model_source import resolve_model_source
    from vzero_train.config import TINY_PREFIX

    if name.startswith(TINY_PREFIX):
        raise ModelConfigError(
            f"{name}: a tiny model is built when training starts; plan a model folder or a hub id"
        )
    try:
        source = resolve_model_source(name)
    except FileNotFoundError as exc:
        raise ModelConfigError(str(exc)) from None
    if Path(source.path).is_dir():
        return Path(source.path), "local folder"
    shipped = SHIPPED_CONFIGS / name.replace("/", "--")
    if (shipped / "config.json").is_file():
        return shipped, "shipped config"
    known = sorted(
        p.name.replace("--", "/") for p in SHIPPED_CONFIGS.iterdir() if (p / "config.json").is_file()
    )
    raise ModelConfigError(
        f"{name}: not a local folder, and no config ships for this hub id (shipped: {', '.join(known)}); "
        "point the recipe at a folder holding the model's config.json"
    )


def read_preprocessor(folder: Path) -> dict[str, Any]:
    """The image processor's settings: ``preprocessor_config.json``, or the ``image_processor`` part
    of ``processor_config.json``. Empty when neither exists (the class defaults then apply)."""
    for file, key in (("preprocessor_config.json", None), ("processor_config.json", "image_processor")):
        path = folder / file
        if path.is_file():
            try:
                doc = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ModelConfigError(f"{path}: unreadable ({exc})") from None
            if key is None:
                return doc
            if isinstance(doc.get(key), dict):
                return {**doc[key], **{k: v for k, v in doc.items() if k == "image_seq_len"}}
    return {}


def _required(config: Any, field_name: str, where: str) -> int:
    value = getattr(config, field_name, None)
    if not isinstance(value, int):
        raise ModelConfigError(f"{where}: field {field_name} is missing or not an integer ({value!r})")
    return value


def text_shape(config: Any, where: str) -> TextShape:
    """The text model's sizes from a transformers config (``where`` names the file in errors)."""
    tc = config.get_text_config()
    layers = _required(tc, "num_hidden_layers", where)
    hidden = _required(tc, "hidden_size", where)
    heads = _required(tc, "num_attention_heads", where)
    kv_heads = getattr(tc, "num_key_value_heads", None) or heads
    head_dim = getattr(tc, "head_dim", None) or hidden // heads
    layer_types = list(getattr(tc, "layer_types", None) or ["full_attention"] * layers)
    linear = sum(1 for t in layer_types if t == "linear_attention")
    return TextShape(
        layers=layers,
        hidden=hidden,
        intermediate=_required(tc, "intermediate_size", where),
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        vocab=_required(tc, "vocab_size", where),
        full_attention_layers=layers - linear,
        linear_layers=linear,
        linear_key_heads=getattr(tc, "linear_num_key_heads", 0) if linear else 0,
        linear_value_heads=getattr(tc, "linear_num_value_heads", 0) if linear else 0,
        linear_key_dim=getattr(tc, "linear_key_head_dim", 0) if linear else 0,
        linear_value_dim=getattr(tc, "linear_value_head_dim", 0) if linear else 0,
        linear_conv_kernel=getattr(tc, "linear_conv_kernel_dim", 0) if linear else 0,
    )


def vision_shape(config: Any) -> VisionShape | None:
    vc = getattr(config, "vision_config", None)
    if vc is None:
        return None
    return VisionShape(
        depth=getattr(vc, "depth", None) or getattr(vc, "num_hidden_layers", 0),
        hidden=getattr(vc, "hidden_size", None) or getattr(vc, "embed_dim", 0),
        intermediate=getattr(vc, "intermediate_size", 0) or 4 * (getattr(vc, "hidden_size", 0) or 0),
        patch_size=getattr(vc, "patch_size", 14),
        merge_size=getattr(vc, "spatial_merge_size", 1),
    )


def count_parameters(config: Any) -> tuple[int, int, int]:
    """(all parameters, those inside repeated blocks, the largest block's) of the model transformers
    builds from ``config``, built on the meta device (shapes only, no memory). The blocks are the
    ones ``teacher.shard`` divides (:func:`vzero_train.teacher_sharding.block_lists`)."""
    import torch
    from transformers import AutoModelForImageTextToText

    from vzero_train.teacher_sharding import block_lists

    with torch.device("meta"):
        model = AutoModelForImageTextToText.from_config(config)
    total = sum(p.numel() for p in model.parameters())
    blocks = [
        sum(p.numel() for p in block.parameters()) for lst in block_lists(model).values() for block in lst
    ]
    return total, sum(blocks), max(blocks, default=0)


def load_model_shape(name: str) -> ModelShape:
    """Everything the plan needs about model ``name`` (a folder, checkpoint or hub id)."""
    from huggingface_hub.errors import StrictDataclassError
    from transformers import AutoConfig

    from vzero_core.vlm.models import model_family

    folder, origin = config_folder(name)
    where = str(folder / "config.json")
    try:
        config = AutoConfig.from_pretrained(str(folder))
    except (OSError, ValueError, KeyError, TypeError, StrictDataclassError) as exc:
        text = " ".join(str(exc).split())
        first = text or type(exc).__name__
        raise ModelConfigError(f"{where}: not a usable model config ({first})") from None
    try:
        model_family(config.model_type)
    except ValueError as exc:
        raise ModelConfigError(f"{where}: {exc}") from None
    total, block, largest = count_parameters(config)
    return ModelShape(
        name=name,
        folder=folder,
        origin=origin,
        model_type=config.model_type,
        params=total,
        block_params=block,
        largest_block_params=largest,
        text=text_shape(config, where),
        vision=vision_shape(config),
        preprocessor=read_preprocessor(folder),
    )
