"""Encode once: each distinct prompt's processor outputs and vision features, shared by every pass.

In one step the G samples of a prompt share its image, and several passes read it: the rollout, the
student's old log-probs, the update, the teacher's replays. Tokenizing and preprocessing a prompt (the
image processor's resize and normalize) and running the vision tower on its image once per row and
per pass repeats the same work 5G times. Here each distinct prompt, with exactly one image, is
encoded once (:func:`encode_once`), its vision features are computed once without gradient
(:func:`compute_features`), and any list of rows (prompt indices, repeats allowed) becomes model
inputs by reference (:meth:`EncodedPrompts.rows`): either the shared features, handed to the model
through transformers' ``mm_encoder_outputs`` forward argument, or the preprocessed pixels, for a
pass that must backpropagate through a trainable vision tower.

Two layouts of image inputs exist among the supported families: Qwen-VL processors return every
image's patches concatenated (``pixel_values`` split by ``image_grid_thw``), Idefics3/SmolVLM one
entry per prompt (``pixel_values[i]``, ``pixel_attention_mask[i]``). Both are cut per prompt here.
A model whose forward has no ``mm_encoder_outputs`` argument gets pixels (preprocessing is still
shared; the vision tower then runs in every forward, as before).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from vzero_core.vlm.prompts import encode_prompts

TEXT_KEYS = ("input_ids", "attention_mask", "mm_token_type_ids", "token_type_ids")
GRID_KEY = "image_grid_thw"


@dataclass
class EncodedPrompts:
    """P distinct prompts with one image each, tokenized and preprocessed once.

    ``text`` holds the (P, L) left-padded token tensors, ``images`` each prompt's own image inputs,
    ``features`` (optional) the vision tower's output for each prompt's image, computed once.
    """

    text: dict[str, torch.Tensor]
    images: list[dict[str, torch.Tensor]]
    features: Any = None

    def __len__(self) -> int:
        return self.text["input_ids"].shape[0]

    @property
    def grid_layout(self) -> bool:
        """Qwen-VL layout: the image grid also sets the text's rotary positions, so it travels with the text."""
        return bool(self.images) and GRID_KEY in self.images[0]

    def pixels(self, index: Sequence[int]) -> dict[str, torch.Tensor]:
        """The image inputs of prompts ``index`` (in that order), as one batch for a forward."""
        index = list(index)
        if not index:
            raise ValueError("no rows selected")
        return {key: torch.cat([self.images[i][key] for i in index]) for key in self.images[0]}

    def rows(self, index: Sequence[int], *, pixels: bool = False) -> dict[str, Any]:
        """Model inputs for rows that repeat prompts ``index``: the text, and the shared vision
        features (or the preprocessed pixels when ``pixels`` or when no features were computed).
        Columns that are padding in every selected row are dropped."""
        index = list(index)
        out: dict[str, Any] = {key: value[index] for key, value in self.text.items()}
        mask = out.get("attention_mask")
        if mask is not None and mask.shape[1]:
            first = int(mask.any(0).float().argmax())  # first column some row uses (left padding)
            out = {key: value[:, first:] for key, value in out.items()}
        if pixels or self.features is None:
            out.update(self.pixels(index))
        else:
            if self.grid_layout:
                out[GRID_KEY] = torch.cat([self.images[i][GRID_KEY] for i in index])
            out["mm_encoder_outputs"] = {"image": select_features([(self.features, i) for i in index])}
        return out

    def to(self, device: torch.device | str) -> EncodedPrompts:
        move = {key: value.to(device) for key, value in self.text.items()}
        images = [{key: value.to(device) for key, value in image.items()} for image in self.images]
        return EncodedPrompts(move, images, self.features)


def encode_once(
    processor: Any,
    prompts: Sequence[str],
    images: Sequence[Any],
    *,
    nested_images: bool,
    device: torch.device | str | None = None,
    **processor_kwargs: Any,
) -> EncodedPrompts:
    """Tokenize and preprocess each of ``prompts`` with its one image ``images[i]``, in one processor call."""
    if len(prompts) != len(images):
        raise ValueError(f"{len(prompts)} prompts but {len(images)} images")
    enc = encode_prompts(
        processor, prompts, [[image] for image in images], nested_images=nested_images, **processor_kwargs
    )
    text = {key: enc[key] for key in TEXT_KEYS if key in enc}
    image_keys = [key for key in enc if key not in TEXT_KEYS]
    n = len(prompts)
    if GRID_KEY in enc:
        unknown = set(image_keys) - {"pixel_values", GRID_KEY}
        if unknown:
            raise ValueError(f"cannot split image inputs {sorted(unknown)} per prompt")
        grid = enc[GRID_KEY]
        if grid.shape[0] != n:
            raise ValueError(f"{grid.shape[0]} image grids for {n} one-image prompts")
        chunks = torch.split(enc["pixel_values"], grid.prod(-1).tolist())
        per_prompt = [{"pixel_values": chunks[i], GRID_KEY: grid[i : i + 1]} for i in range(n)]
    else:
        per_prompt = [{key: enc[key][i : i + 1] for key in image_keys} for i in range(n)]
    encoded = EncodedPrompts(text, per_prompt)
    return encoded.to(device) if device is not None else encoded


def accepts_features(model: Any) -> bool:
    """Whether ``model``'s forward takes precomputed vision features (``mm_encoder_outputs``)."""
    forward = getattr(model, "forward", None)
    return (
        forward is not None
        and callable(getattr(model, "get_image_features", None))
        and "mm_encoder_outputs" in inspect.signature(forward).parameters
    )


def compute_features(
    model: Any,
    encoded: EncodedPrompts,
    *,
    batch_size: int | None = None,
    context: contextlib.AbstractContextManager | None = None,
) -> EncodedPrompts:
    """``encoded`` with its vision features: ``model.get_image_features`` once per prompt, no gradient,
    ``batch_size`` images per call, inside ``context`` (the autocast the consuming passes run under).
    A model that cannot take precomputed features gets ``encoded`` back unchanged (pixels are used)."""
    if not accepts_features(model):
        return encoded
    n = len(encoded)
    step = batch_size or n
    with torch.no_grad(), context or contextlib.nullcontext():
        parts = [_encode(model, encoded, range(start, min(start + step, n))) for start in range(0, n, step)]
    return EncodedPrompts(encoded.text, encoded.images, _concat(parts))


def rows_with_fresh_features(model: Any, encoded: EncodedPrompts, index: Sequence[int]) -> dict[str, Any]:
    """:meth:`EncodedPrompts.rows` for a pass that trains the vision tower: the features of the rows'
    distinct prompts are computed anew, with gradient, once each, and shared by their rows (autograd
    sums the rows' gradients into the tower, as if each row had run it). The preprocessing is reused."""
    distinct = list(dict.fromkeys(index))
    features = _encode(model, encoded, distinct)
    # laid out by prompt index (prompts not in these rows get None), so rows() can pick them
    slots: list[Any] = [None] * len(encoded)
    for i, p in enumerate(distinct):
        slots[p] = i
    pooled = tuple(None if i is None else features.pooler_output[i] for i in slots)
    extra = {}
    if getattr(features, "deepstack_features", None) is not None:
        extra["deepstack_features"] = [
            tuple(None if i is None else layer[i] for i in slots) for layer in features.deepstack_features
        ]
    laid_out = type(features)(pooler_output=pooled, **extra)
    return EncodedPrompts(encoded.text, encoded.images, laid_out).rows(index)


def _encode(model: Any, encoded: EncodedPrompts, index: Sequence[int]) -> Any:
    """Vision features of prompts ``index`` (in that order), one group per prompt, in the current grad mode."""
    index = list(index)
    fn = model.get_image_features
    accepted = set(inspect.signature(fn).parameters)
    inputs = encoded.pixels(index)
    out = fn(**{key: value for key, value in inputs.items() if key in accepted}, return_dict=True)
    return _per_prompt(out, len(index))


def _concat(parts: Sequence[Any]) -> Any:
    pooled = tuple(p for part in parts for p in part.pooler_output)
    extra = {}
    if getattr(parts[0], "deepstack_features", None) is not None:
        layers = len(parts[0].deepstack_features)
        extra["deepstack_features"] = [
            tuple(f for part in parts for f in part.deepstack_features[layer]) for layer in range(layers)
        ]
    return type(parts[0])(pooler_output=pooled, **extra)


def _per_prompt(out: Any, n: int) -> Any:
    """Keep only what the language model consumes (per-image pooled features, Qwen3-VL's deepstack
    features), one entry per prompt; the vision tower's last hidden state is dropped."""
    pooled = tuple(out.pooler_output)
    if len(pooled) != n:
        raise ValueError(f"vision tower returned {len(pooled)} feature groups for {n} one-image prompts")
    extra = {}
    deepstack = getattr(out, "deepstack_features", None)
    if deepstack is not None:
        extra["deepstack_features"] = [tuple(layer) for layer in deepstack]
    return type(out)(pooler_output=pooled, **extra)


def select_features(parts: Sequence[tuple[Any, int]]) -> Any:
    """One features object for a batch of rows: row r takes prompt ``parts[r][1]`` of ``parts[r][0]``
    (tensors are shared, not copied)."""
    if not parts:
        raise ValueError("no rows selected")
    first = parts[0][0]
    extra = {}
    if getattr(first, "deepstack_features", None) is not None:
        layers = len(first.deepstack_features)
        extra["deepstack_features"] = [
            tuple(features.deepstack_features[layer][i] for features, i in parts) for layer in range(layers)
        ]
    return type(first)(pooler_output=tuple(features.pooler_output[i] for features, i in parts), **extra)


def vision_requires_grad(model: Any) -> bool:
    """Whether any parameter of ``model``'s vision side (the tower and its projector) is trainable.

    The vision side is what :func:`compute_features` runs: every parameter ``get_image_features``
    reaches. Found by name (``visual``, ``vision_model``, ``vision_tower``, ``connector``,
    ``multi_modal_projector``); a model without any such parameter is treated as trainable, so its
    update recomputes features with gradient (the safe choice).
    """
    names = ("visual.", "vision_model.", "vision_tower.", "connector.", "multi_modal_projector.")
    found = False
    for name, param in model.named_parameters():
        if any(part in f"{name}" for part in names):
            found = True
            if param.requires_grad:
                return True
    return not found
