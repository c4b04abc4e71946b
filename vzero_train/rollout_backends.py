"""The rollout backend a recipe names (``rollout.backend``): ``hf`` or ``vllm``."""

from __future__ import annotations

from typing import Any

from vzero_train.rollout import HFRollout, SamplingConfig
from vzero_train.rollout_vllm import VLLMRollout


def make_rollout_backend(
    name: str, processor: Any, sampling: SamplingConfig, *, nested_images: bool, **kwargs: Any
) -> Any:
    """``hf`` (transformers generate) or ``vllm`` (GPU machines with vLLM installed)."""
    if name == "hf":
        return HFRollout(
            processor, sampling, nested_images=nested_images, batch_size=kwargs.get("batch_size")
        )
    if name == "vllm":
        return VLLMRollout(
            processor, sampling, model_path=kwargs["model_path"], llm_kwargs=kwargs.get("llm_kwargs")
        )
    raise ValueError(f"unknown rollout backend {name!r}; known: hf, vllm")
