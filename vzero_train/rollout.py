"""Student rollouts: G sampled responses per prompt on the full image (docs/method.md, "One training step").

The default backend is transformers' ``generate``. Sampling uses exactly the configured settings
(temperature, top-p, top-k, max new tokens) on a fresh generation config, so a checkpoint's own
``generation_config.json`` (repetition penalties, greedy defaults) cannot silently make the
rollouts off-policy. Each step's sampling is seeded from (run seed, step, process rank), which makes
runs reproducible and resumable without depending on the global RNG.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from vzero_core.vlm.prompts import encode_prompts


@dataclass(frozen=True)
class SamplingConfig:
    """How the student samples: G responses per prompt and the sampling distribution."""

    group_size: int = 8
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int | None = None
    max_new_tokens: int = 2048

    def __post_init__(self) -> None:
        if self.group_size < 1:
            raise ValueError(f"group_size must be >= 1, got {self.group_size}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0 (sampling), got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"top_k must be >= 1 or None (no top-k), got {self.top_k}")
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")


@dataclass
class Rollout:
    """N = B * G sampled responses, prompt-major (prompt 0's G samples first).

    ``response_ids`` (N, T) are right-padded after each response's end; ``response_mask`` marks the
    real tokens, up to and including the first end-of-sequence token. ``logprobs`` holds the
    sampling-time log-probs (model distribution, temperature 1) when the backend was asked for them.
    """

    prompt_index: list[int]
    group_ids: list[Hashable]
    response_ids: torch.Tensor
    response_mask: torch.Tensor
    logprobs: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.response_ids.shape[0]

    @property
    def lengths(self) -> torch.Tensor:
        return self.response_mask.sum(-1)


def response_mask(response_ids: torch.Tensor, eos_token_ids: Sequence[int]) -> torch.Tensor:
    """True up to and including the first end-of-sequence token of each row (all True if none)."""
    is_eos = torch.isin(response_ids, torch.tensor(list(eos_token_ids), device=response_ids.device))
    eos_before = torch.cumsum(is_eos.long(), dim=1) - is_eos.long()
    return eos_before == 0


def eos_token_ids(model: Any, tokenizer: Any) -> list[int]:
    """The end-of-sequence ids generation stops at: the model's generation config, else the tokenizer's."""
    ids = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    if ids is None:
        ids = tokenizer.eos_token_id
    ids = [ids] if isinstance(ids, int) else list(ids or [])
    if not ids:
        raise ValueError("neither the model's generation config nor the tokenizer defines an eos token")
    return ids


IMAGE_TOKEN_ATTRIBUTES = (
    "image_token_id",
    "image_token_index",
    "video_token_id",
    "vision_start_token_id",
    "vision_end_token_id",
)


def image_placeholder_ids(model: Any) -> list[int]:
    """Token ids that stand for image content in the prompt (Qwen's ``<|image_pad|>``, Idefics'
    ``<image>``...). A response containing one would be read as an image slot when replayed."""
    config = getattr(model, "config", None)
    ids = {getattr(config, attr, None) for attr in IMAGE_TOKEN_ATTRIBUTES}
    return sorted(i for i in ids if isinstance(i, int) and i >= 0)


def expand_groups(items: Sequence[Any], group_size: int) -> list[Any]:
    """Each item repeated ``group_size`` times in place: [a, b] -> [a, a, b, b] for G = 2."""
    return [item for item in items for _ in range(group_size)]


def trim_responses(
    response_ids: torch.Tensor, mask: torch.Tensor, logprobs: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Drop trailing columns that no response uses (keeps at least one column)."""
    width = max(int(mask.sum(-1).max()) if mask.numel() else 0, 1)
    return response_ids[:, :width], mask[:, :width], None if logprobs is None else logprobs[:, :width]


@contextlib.contextmanager
def only_these_settings(model: Any, config: Any) -> Iterator[None]:
    """Hide the model's own ``generation_config`` during ``generate``.

    transformers fills every setting left unset in the passed config from the model's generation
    config (a checkpoint's repetition penalty, top-k, min-p, suppressed tokens...), which would make
    the samples come from a different distribution than the policy being trained.
    """
    from transformers import GenerationConfig

    saved = model.generation_config
    model.generation_config = GenerationConfig(
        eos_token_id=config.eos_token_id,
        pad_token_id=config.pad_token_id,
        bos_token_id=getattr(saved, "bos_token_id", None),
    )
    try:
        yield
    finally:
        model.generation_config = saved


@dataclass
class Samples:
    """What a backend sampled: (N, T) ids padded with ``pad_id``, each row's real length, and optionally
    the sampling-time log-probs; ``eos_ids`` end a response (kept in it)."""

    ids: torch.Tensor
    lengths: torch.Tensor
    eos_ids: list[int]
    pad_id: int
    logprobs: torch.Tensor | None = None


class RolloutBackend:
    """Shared contract of rollout backends: subclasses implement :meth:`sample`."""

    sampling: SamplingConfig

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
        raise NotImplementedError

    def generate(
        self,
        model: Any,
        prompts: Sequence[str],
        images: Sequence[Sequence[Any]],
        group_ids: Sequence[Hashable],
        *,
        seed: int,
        return_logprobs: bool = False,
        encoded: Any = None,
    ) -> Rollout:
        """Sample G responses for each rendered prompt with its images; group ``i`` is ``group_ids[i]``.

        ``encoded`` (:class:`vzero_core.vlm.vision_cache.EncodedPrompts` of exactly these prompts, on the
        model's device) lets a backend reuse the step's preprocessing and vision features.
        """
        if not (len(prompts) == len(images) == len(group_ids)):
            raise ValueError(f"{len(prompts)} prompts, {len(images)} image lists, {len(group_ids)} group ids")
        if encoded is not None and len(encoded) != len(prompts):
            raise ValueError(f"{len(encoded)} encoded prompts for {len(prompts)} prompts")
        s = self.sample(model, prompts, images, seed=seed, return_logprobs=return_logprobs, encoded=encoded)
        within = torch.arange(s.ids.shape[1])[None, :] < s.lengths[:, None]
        mask = response_mask(s.ids, s.eos_ids) & within
        ids, mask, logprobs = trim_responses(s.ids, mask, s.logprobs)
        G = self.sampling.group_size
        return Rollout(
            prompt_index=expand_groups(range(len(prompts)), G),
            group_ids=expand_groups(group_ids, G),
            response_ids=ids.masked_fill(~mask, s.pad_id),
            response_mask=mask,
            logprobs=None if logprobs is None else logprobs.masked_fill(~mask, 0.0),
        )


class HFRollout(RolloutBackend):
    """Sampling with ``model.generate``, one row per sample. Given the step's encoded prompts, rows
    share each prompt's preprocessing and vision features; otherwise each row is encoded anew."""

    def __init__(
        self,
        processor: Any,
        sampling: SamplingConfig,
        *,
        nested_images: bool,
        batch_size: int | None = None,
    ) -> None:
        self.processor = processor
        self.sampling = sampling
        self.nested_images = nested_images
        self.batch_size = batch_size

    def generation_config(self, model: Any, *, return_logprobs: bool = False) -> Any:
        """Exactly the configured sampling; image placeholder tokens can never be sampled."""
        from transformers import GenerationConfig

        s = self.sampling
        tok = self.processor.tokenizer
        return GenerationConfig(
            do_sample=True,
            temperature=s.temperature,
            top_p=s.top_p,
            top_k=s.top_k or 0,
            max_new_tokens=s.max_new_tokens,
            eos_token_id=eos_token_ids(model, tok),
            pad_token_id=tok.pad_token_id if tok.pad_token_id is not None else eos_token_ids(model, tok)[0],
            return_dict_in_generate=True,
            output_logits=return_logprobs,
            suppress_tokens=image_placeholder_ids(model) or None,
        )

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
        G = self.sampling.group_size
        rows_prompts, rows_images = expand_groups(prompts, G), expand_groups(images, G)
        rows_index = expand_groups(range(len(prompts)), G)
        device = next(model.parameters()).device
        config = self.generation_config(model, return_logprobs=return_logprobs)
        step = self.batch_size or len(rows_prompts)
        chunks: list[tuple[torch.Tensor, torch.Tensor | None]] = []
        devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices), torch.no_grad(), only_these_settings(model, config):
            torch.manual_seed(seed)
            for start in range(0, len(rows_prompts), step):
                if encoded is not None:
                    enc = encoded.rows(rows_index[start : start + step])
                else:
                    enc = encode_prompts(
                        self.processor,
                        rows_prompts[start : start + step],
                        rows_images[start : start + step],
                        nested_images=self.nested_images,
                    ).to(device)
                out = model.generate(**enc, generation_config=config)
                responses = out.sequences[:, enc["input_ids"].shape[1] :]
                lp = None
                if return_logprobs:
                    lp = torch.stack(
                        [
                            torch.log_softmax(logits.float(), -1).gather(-1, responses[:, i : i + 1])[:, 0]
                            for i, logits in enumerate(out.logits)
                        ],
                        dim=1,
                    )
                chunks.append((responses, lp))
        pad = config.pad_token_id
        width = max(r.shape[1] for r, _ in chunks)
        ids = torch.cat(
            [torch.nn.functional.pad(r, (0, width - r.shape[1]), value=pad) for r, _ in chunks]
        ).cpu()
        logprobs = None
        if return_logprobs:
            logprobs = torch.cat(
                [torch.nn.functional.pad(lp, (0, width - lp.shape[1])) for _, lp in chunks]
            ).cpu()
        # generate pads finished rows after their eos; the eos mask finds each end
        lengths = torch.full((ids.shape[0],), width)
        return Samples(ids, lengths, list(config.eos_token_id), pad, logprobs)
