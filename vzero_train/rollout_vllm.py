"""Optional rollout backend on vLLM (GPU machines): same contract as :class:`~vzero_train.rollout.HFRollout`.

vLLM is imported lazily; constructing the backend without it installed raises a clear error. The
engine runs inside each training process (``distributed_executor_backend="external_launcher"``
under ``accelerate launch``, one engine per GPU, tensor parallel size 1) and, because V-Zero is
on-policy, receives the student's current weights before every rollout through the model's own
``load_weights``, the way TRL's co-located mode does. Old log-probs are always recomputed by the
training model, so vLLM's own log-probs are only returned when asked for.

Not exercised by the CPU test suite: check it on a GPU machine with the installed vLLM version
(internal engine attributes move between vLLM releases).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

import torch

from vzero_train.rollout import RolloutBackend, Samples, SamplingConfig, eos_token_ids, image_placeholder_ids

logger = logging.getLogger(__name__)


def _require_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise ImportError(
            "rollout.backend 'vllm' needs vLLM, which is not installed here; install it on a GPU "
            "machine (pip install vllm) or use rollout.backend 'hf'"
        ) from exc
    return vllm


class VLLMRollout(RolloutBackend):
    """Samples with an in-process ``vllm.LLM`` loaded from the student's checkpoint folder."""

    def __init__(
        self,
        processor: Any,
        sampling: SamplingConfig,
        *,
        model_path: str,
        llm_kwargs: dict[str, Any] | None = None,
    ) -> None:
        vllm = _require_vllm()
        self.processor = processor
        self.sampling = sampling
        kwargs: dict[str, Any] = {
            "model": model_path,
            "max_model_len": None,
            "gpu_memory_utilization": 0.3,
            "enable_prefix_caching": True,
            "limit_mm_per_prompt": {"image": 1},
        }
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            kwargs["distributed_executor_backend"] = "external_launcher"
            kwargs["seed"] = int(os.environ.get("RANK", "0"))
        kwargs.update(llm_kwargs or {})
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        self.llm = vllm.LLM(**kwargs)
        self._vllm = vllm

    def _engine_model(self) -> Any:
        executor = self.llm.llm_engine.model_executor
        worker = executor.driver_worker
        worker = getattr(worker, "worker", worker)
        return worker.model_runner.model

    @torch.no_grad()
    def sync_weights(self, model: Any) -> None:
        """Copy the training model's current weights into the engine."""
        engine_model = self._engine_model()
        engine_model.load_weights((name, p.detach()) for name, p in model.state_dict().items())
        reset = getattr(self.llm, "reset_prefix_cache", None)
        if reset is not None:
            reset()

    def sample(
        self,
        model: Any,
        prompts: Sequence[str],
        images: Sequence[Sequence[Any]],
        *,
        seed: int,
        return_logprobs: bool,
        encoded: Any = None,
    ) -> Samples:
        # vLLM preprocesses and encodes images itself; ``encoded`` (the trainer's shared inputs) is unused
        self.sync_weights(model)  # on-policy: sample from the weights being trained
        s = self.sampling
        params = self._vllm.SamplingParams(
            n=s.group_size,
            temperature=s.temperature,
            top_p=s.top_p,
            top_k=s.top_k if s.top_k is not None else -1,
            max_tokens=s.max_new_tokens,
            seed=seed,
            logprobs=0 if return_logprobs else None,
            skip_special_tokens=False,
            # never sample an image placeholder: replay would read it as an image slot
            logit_bias=dict.fromkeys(image_placeholder_ids(model), -100.0) or None,
        )
        requests = [
            {"prompt": p, "multi_modal_data": {"image": list(imgs) if len(imgs) > 1 else imgs[0]}}
            for p, imgs in zip(prompts, images, strict=True)
        ]
        outputs = self.llm.generate(requests, params, use_tqdm=False)
        completions = [c for out in outputs for c in out.outputs]  # prompt-major, G per prompt
        tok = self.processor.tokenizer
        pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        width = max((len(c.token_ids) for c in completions), default=1) or 1
        ids = torch.full((len(completions), width), pad, dtype=torch.long)
        logprobs = torch.zeros((len(completions), width)) if return_logprobs else None
        for row, c in enumerate(completions):
            ids[row, : len(c.token_ids)] = torch.tensor(list(c.token_ids), dtype=torch.long)
            if logprobs is not None and c.logprobs:
                logprobs[row, : len(c.logprobs)] = torch.tensor(
                    [step[t].logprob for step, t in zip(c.logprobs, c.token_ids, strict=False)]
                )
        lengths = torch.tensor([len(c.token_ids) for c in completions])
        return Samples(ids, lengths, eos_token_ids(model, tok), pad, logprobs)
