"""Share the teacher's prefix: its replays branch one forward of the prompt's common part.

The teacher scores every sampled response twice, with the positive crop and with the negative view in
the crop slot. Everything before the crop (system, full image, question) is the same for the G samples
of a prompt and for both views; the straightforward replay recomputes it 2G times. Here each teacher
prompt is cut just before the crop's image placeholder (:func:`split_at_crop`); the prefix runs once
per prompt with a KV cache, and the cache is branched for the rows that continue it: the view's
suffix (crop image, end of the user turn, assistant header) followed by one response. Both views'
rows of a prompt go through one batched forward (``micro_batch_size`` rows at a time).

Exactness: positions are those of the full sequence. Qwen-VL families use multimodal rotary
positions, computed here by the model's own ``get_rope_index`` over the whole row (prefix, suffix,
response) and sliced; the others count positions on from the cached length, as in a full forward.
Rows are padded only at their right end, after every scored position, so no padding ever sits
inside a sequence (which linear-attention layers, as in Qwen3.5, would not ignore). The cut is just
before an added special token, so tokenizing the two parts gives the ids of the whole prompt.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from vzero_core.vlm.replay import gather_token_logprobs, topk_logprobs
from vzero_core.vlm.vision_cache import EncodedPrompts, compute_features, encode_once, select_features


def split_at_crop(prompt: str, image_token: str) -> tuple[str, str]:
    """``prompt`` cut just before its second image placeholder (the crop): (prefix, suffix)."""
    first = prompt.find(image_token)
    second = prompt.find(image_token, first + len(image_token)) if first >= 0 else -1
    if second < 0 or prompt.find(image_token, second + len(image_token)) >= 0:
        raise ValueError(
            f"a teacher prompt must hold exactly two image placeholders {image_token!r} (full image, then crop); "
            f"found {prompt.count(image_token)}"
        )
    return prompt[:second], prompt[second:]


@dataclass
class TeacherPrompts:
    """The teacher's prompts of one step, encoded once: ``prefix`` (one row per prompt, full image)
    and, per view name, ``suffixes[name]`` (one row per prompt, that view's image), with features."""

    prefix: EncodedPrompts
    suffixes: dict[str, EncodedPrompts]


def encode_teacher_prompts(
    model: Any,
    processor: Any,
    prompts: Sequence[str],
    full_images: Sequence[Any],
    views: Mapping[str, Sequence[Any]],
    *,
    nested_images: bool,
    device: torch.device | str,
    batch_size: int | None = None,
    context: contextlib.AbstractContextManager | None = None,
) -> TeacherPrompts:
    """Cut each rendered teacher prompt at its crop, preprocess each part with its one image, and
    compute every image's teacher features once (inside ``context``)."""
    parts = [split_at_crop(p, processor.image_token) for p in prompts]
    prefix = encode_once(
        processor, [p for p, _ in parts], full_images, nested_images=nested_images, device=device
    )
    suffixes = {
        name: encode_once(
            processor,
            [s for _, s in parts],
            images,
            nested_images=nested_images,
            device=device,
            add_special_tokens=False,  # a continuation: no second BOS
        )
        for name, images in views.items()
    }
    feats = dict(batch_size=batch_size, context=context)
    return TeacherPrompts(
        compute_features(model, prefix, **feats),
        {name: compute_features(model, enc, **feats) for name, enc in suffixes.items()},
    )


class CacheBranches:
    """A prefix's KV cache, branched for any number of continuation rows without copying the prefix.

    Each :meth:`branch` puts the cache layers back to their post-prefix state and selects the prefix
    row ``rows`` times (``index_select`` makes new tensors, so continuing a branch, which writes into
    its states, never touches the prefix's). Works for attention layers and linear-attention states.
    """

    def __init__(self, cache: Any) -> None:
        self.cache = cache
        self._saved = [self._snapshot(layer) for layer in cache.layers]

    @staticmethod
    def _snapshot(layer: Any) -> dict[str, Any]:
        return {k: dict(v) if isinstance(v, dict) else v for k, v in vars(layer).items()}

    def branch(self, rows: int) -> Any:
        for layer, saved in zip(self.cache.layers, self._saved, strict=True):
            layer.__dict__.update(self._snapshot_from(saved))
        device = _cache_device(self.cache)
        self.cache.reorder_cache(torch.zeros(rows, dtype=torch.long, device=device))
        return self.cache

    @staticmethod
    def _snapshot_from(saved: dict[str, Any]) -> dict[str, Any]:
        return {k: dict(v) if isinstance(v, dict) else v for k, v in saved.items()}


def _cache_device(cache: Any) -> torch.device | None:
    for layer in cache.layers:
        for value in vars(layer).values():
            values = value.values() if isinstance(value, dict) else [value]
            for v in values:
                if isinstance(v, torch.Tensor) and v.numel():
                    return v.device
    return None


def rope_positions(model: Any, input_ids: torch.Tensor, mm_token_type_ids: torch.Tensor, grids: torch.Tensor):
    """The multimodal rotary positions (3, 1, L) a full forward of one unpadded row would use, or
    None for a model without them (it counts positions on from the cache)."""
    get_rope_index = getattr(getattr(model, "model", None), "get_rope_index", None)
    if get_rope_index is None:
        return None
    positions, _ = get_rope_index(input_ids, mm_token_type_ids=mm_token_type_ids, image_grid_thw=grids)
    return positions


def shared_prefix_logprobs(
    model: Any,
    teacher: TeacherPrompts,
    prompt_index: Sequence[int],
    response_ids: torch.Tensor,
    *,
    micro_batch_size: int = 8,
    chunk_size: int = 256,
    pad_token_id: int = 0,
    topk: int | None = None,
    topk_views: Sequence[str] = ("positive",),
) -> dict[str, torch.Tensor]:
    """Teacher-forced log-probs (N, T) of ``response_ids[i]`` after prompt ``prompt_index[i]``, for
    every view in ``teacher.suffixes``; no gradient, returned on CPU as float32. With ``topk``, the
    views in ``topk_views`` also give the teacher's ``topk`` most likely tokens at every response
    position (all of the vocabulary when ``topk`` exceeds it), under ``"<view>:topk_ids"`` (N, T, k)
    and ``"<view>:topk_logprobs"`` (N, T, k)."""
    N, T = response_ids.shape
    if len(prompt_index) != N:
        raise ValueError(f"{len(prompt_index)} prompt indices for {N} responses")
    out = {name: torch.zeros((N, T), dtype=torch.float32) for name in teacher.suffixes}
    want_topk = {name for name in topk_views if name in teacher.suffixes} if topk else set()
    by_prompt: dict[int, list[int]] = {}
    for row, p in enumerate(prompt_index):
        by_prompt.setdefault(int(p), []).append(row)
    with torch.no_grad():
        for p, rows in by_prompt.items():
            _replay_prompt(
                model, teacher, p, rows, response_ids, out, micro_batch_size, chunk_size, pad_token_id,
                topk if want_topk else None, want_topk,
            )  # fmt: skip
    return out


def _replay_prompt(
    model: Any,
    teacher: TeacherPrompts,
    p: int,
    rows: list[int],
    response_ids: torch.Tensor,
    out: dict[str, torch.Tensor],
    micro_batch_size: int,
    chunk_size: int,
    pad_token_id: int,
    topk: int | None = None,
    topk_views: set[str] = frozenset(),
) -> None:
    prefix = teacher.prefix.rows([p])
    mm_encoder_outputs = prefix.pop("mm_encoder_outputs", None)
    prefix_grid = prefix.pop("image_grid_thw", None)
    ids = prefix["input_ids"]
    device = ids.device
    T = response_ids.shape[1]
    response_ids = response_ids.to(device)

    # per view: its suffix ids and the positions of suffix + response in the full row
    views = {}
    for name, enc in teacher.suffixes.items():
        suffix = enc.rows([p])
        s_ids = suffix["input_ids"]
        positions = None
        if prefix_grid is not None and "mm_token_type_ids" in prefix:
            full_ids = torch.cat([ids, s_ids, s_ids.new_full((1, T), pad_token_id)], dim=1)
            types = torch.cat(
                [prefix["mm_token_type_ids"], suffix["mm_token_type_ids"], s_ids.new_zeros((1, T))], dim=1
            )
            positions = rope_positions(
                model, full_ids, types, torch.cat([prefix_grid, suffix["image_grid_thw"]])
            )
            if positions is not None:
                positions = positions[..., ids.shape[1] :]
        views[name] = (enc, s_ids[0], positions)

    prefix_positions = None
    if prefix_grid is not None and "mm_token_type_ids" in prefix:
        prefix_positions = rope_positions(model, ids, prefix["mm_token_type_ids"], prefix_grid)
    kwargs = {"position_ids": prefix_positions} if prefix_positions is not None else {}
    if mm_encoder_outputs is not None:
        kwargs["mm_encoder_outputs"] = mm_encoder_outputs
    else:  # a model without precomputed features: pixels go through its own forward
        kwargs.update({k: v for k, v in prefix.items() if k not in ("input_ids", "attention_mask")})
        if prefix_grid is not None:
            kwargs["image_grid_thw"] = prefix_grid
    result = model(input_ids=ids, use_cache=True, logits_to_keep=1, **kwargs)
    branches = CacheBranches(result.cache)

    work = [(name, row) for name in teacher.suffixes for row in rows]
    for start in range(0, len(work), micro_batch_size):
        chunk = work[start : start + micro_batch_size]
        width = max(views[name][1].shape[0] for name, _ in chunk) + T
        input_ids = torch.full((len(chunk), width), pad_token_id, dtype=ids.dtype, device=device)
        keep = torch.empty((len(chunk), T), dtype=torch.long, device=device)
        positions = None
        if all(views[name][2] is not None for name, _ in chunk):
            positions = torch.zeros((3, len(chunk), width), dtype=torch.long, device=device)
        for r, (name, row) in enumerate(chunk):
            _, s_ids, pos = views[name]
            n = s_ids.shape[0]
            input_ids[r, :n] = s_ids
            input_ids[r, n : n + T] = response_ids[row]
            keep[r] = torch.arange(n - 1, n - 1 + T, device=device)
            if positions is not None:
                positions[:, r, : n + T] = pos[:, 0]
                positions[:, r, n + T :] = pos[:, 0, -1:] + 1  # right padding, never scored
        kwargs = {"position_ids": positions} if positions is not None else {}
        encs = [(views[name][0], p) for name, _ in chunk]
        if encs[0][0].features is not None:
            kwargs["mm_encoder_outputs"] = {"image": select_features([(e.features, i) for e, i in encs])}
        else:
            for key in encs[0][0].images[0]:
                kwargs[key] = torch.cat([e.images[i][key] for e, i in encs])
        logits = model(
            input_ids=input_ids,
            cache=branches.branch(len(chunk)),
            use_cache=True,
            logits_to_keep=keep,
            **kwargs,
        ).logits
        rows_ids = torch.stack([response_ids[row] for _, row in chunk])
        lp = gather_token_logprobs(logits, rows_ids, chunk_size=chunk_size).float().cpu()
        for r, (name, row) in enumerate(chunk):
            out[name][row] = lp[r]
        if topk:
            store_topk(
                out,
                [name for name, _ in chunk],
                [row for _, row in chunk],
                logits,
                topk,
                topk_views,
                chunk_size,
            )


def store_topk(
    out: dict[str, torch.Tensor],
    names: Sequence[str],
    rows: Sequence[int],
    logits: torch.Tensor,
    k: int,
    views: set[str],
    chunk_size: int,
) -> None:
    """Write the teacher's top-``k`` (ids, log-probs) of the chunk's rows of ``views`` into ``out``,
    allocating ``"<view>:topk_ids"`` / ``"<view>:topk_logprobs"`` (N, T, k) on first use."""
    picked = [r for r, name in enumerate(names) if name in views]
    if not picked:
        return
    ids, lps = topk_logprobs(logits[picked], k, chunk_size=chunk_size)
    ids, lps = ids.cpu(), lps.cpu()
    for j, r in enumerate(picked):
        name, row = names[r], rows[r]
        if f"{name}:topk_ids" not in out:
            N, T = out[name].shape
            out[f"{name}:topk_ids"] = torch.zeros((N, T, ids.shape[-1]), dtype=torch.long)
            out[f"{name}:topk_logprobs"] = torch.zeros((N, T, ids.shape[-1]), dtype=torch.float32)
        out[f"{name}:topk_ids"][row] = ids[j]
        out[f"{name}:topk_logprobs"][row] = lps[j]
