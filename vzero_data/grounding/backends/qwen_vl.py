"""``qwen-vl``: ask a Qwen-VL model for the phrase's region and parse its answer leniently.

Works with ``AutoModelForImageTextToText`` checkpoints of the Qwen-VL families, e.g.
``Qwen/Qwen2.5-VL-7B-Instruct`` (default), ``Qwen/Qwen2.5-VL-3B-Instruct``,
``Qwen/Qwen3-VL-8B-Instruct``, ``Qwen/Qwen2-VL-7B-Instruct``, or a local folder.

The families answer in different frames (``frame="auto"`` picks by the config's ``model_type``):

- Qwen2.5-VL: absolute pixels of the processor-resized image (``smart_resize``: sides multiples of
  28, pixel count inside the processor's ``[min_pixels, max_pixels]``), mapped back with
  :func:`vzero_core.box_formats.box_from_qwen25_resized`;
- Qwen2-VL, Qwen3-VL, Qwen3.5: a 0-1000 grid on both axes (:func:`box_from_grid1000`).

A generative model has no detection score: a region's score is the geometric-mean probability of
the answer's tokens (greedy decoding), a usable confidence for ranking and thresholds. Garbage
answers yield no region, never an exception.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

from PIL import Image
from pydantic import Field, field_validator

from vzero_core.box_formats import box_from_grid1000, box_from_qwen25_resized
from vzero_core.boxes import BoxError
from vzero_data.grounding.answer_parsing import parse_boxes
from vzero_data.grounding.base import GrounderOptions, ModelGrounder
from vzero_data.grounding.region import Region, regions_from_xyxy

DEFAULT_PROMPT = (
    "Locate the {phrase} in the image and output its bbox coordinates in JSON format, "
    'like [{"bbox_2d": [x1, y1, x2, y2], "label": "{phrase}"}].'
)
FRAME_BY_MODEL_TYPE = {
    "qwen2_5_vl": "qwen25_resized",
    "qwen2_vl": "grid1000",
    "qwen3_vl": "grid1000",
    "qwen3_vl_moe": "grid1000",
    "qwen3_5": "grid1000",
    "qwen3_5_moe": "grid1000",
}
Frame = Literal["qwen25_resized", "grid1000"]


class QwenVLOptions(GrounderOptions):
    model: str = "Qwen/Qwen2.5-VL-7B-Instruct"
    batch_size: int = Field(2, ge=1)
    prompt: str = Field(DEFAULT_PROMPT, description="{phrase} is replaced by the phrase")
    frame: Literal["auto", "qwen25_resized", "grid1000"] = "auto"
    max_new_tokens: int = Field(128, ge=1)
    min_pixels: int | None = Field(
        None, ge=1, description="processor resize bounds; None keeps the checkpoint's"
    )
    max_pixels: int | None = Field(None, ge=1)

    @field_validator("prompt")
    @classmethod
    def _has_phrase(cls, prompt: str) -> str:
        if "{phrase}" not in prompt:
            raise ValueError("prompt must contain {phrase}")
        return prompt


def map_answer_box(
    xyxy: Sequence[float], frame: Frame, width: int, height: int, *, min_pixels: int, max_pixels: int
) -> list[float] | None:
    """A box from the model's frame to original-image pixels (None when it cannot be mapped)."""
    try:
        if frame == "grid1000":
            return box_from_grid1000(xyxy, width, height).to_list()
        return box_from_qwen25_resized(
            xyxy, width, height, min_pixels=min_pixels, max_pixels=max_pixels
        ).to_list()
    except BoxError:
        return None


def answer_regions(
    answer: str,
    score: float,
    phrase: str,
    frame: Frame,
    width: int,
    height: int,
    provenance: dict[str, Any],
    *,
    min_pixels: int,
    max_pixels: int,
    max_regions: int | None = None,
) -> list[Region]:
    """Parse one answer into regions in original-image pixels; [] for answers with no usable box."""
    boxes = [
        mapped
        for parsed in parse_boxes(answer)
        if (
            mapped := map_answer_box(
                parsed.xyxy, frame, width, height, min_pixels=min_pixels, max_pixels=max_pixels
            )
        )
    ]
    return regions_from_xyxy(
        boxes, [score] * len(boxes), phrase, width, height, provenance, max_regions=max_regions
    )


class QwenVLGrounder(ModelGrounder):
    name = "qwen-vl"
    Options = QwenVLOptions
    options: QwenVLOptions

    loads_hub_model = True

    def _load(self) -> None:
        from transformers import AutoModelForImageTextToText

        from vzero_core.hf_loading import load_processor
        from vzero_core.model_source import require_model_source

        require_model_source(self.options.model, what=f"{self.name} model")

        self.processor = load_processor(self.options.model)
        self.processor.tokenizer.padding_side = "left"
        self.model = AutoModelForImageTextToText.from_pretrained(self.options.model, dtype=self._dtype)
        self.model.to(self._device).eval()
        self.frame: Frame = self._resolve_frame()
        size = dict(self.processor.image_processor.size)
        self.min_pixels = self.options.min_pixels or int(size["shortest_edge"])
        self.max_pixels = self.options.max_pixels or int(size["longest_edge"])

    def _resolve_frame(self) -> Frame:
        if self.options.frame != "auto":
            return self.options.frame
        model_type = self.model.config.model_type
        if model_type not in FRAME_BY_MODEL_TYPE:
            raise ValueError(
                f"qwen-vl: cannot tell the box frame of model_type {model_type!r} ({self.options.model}); "
                "set frame='qwen25_resized' or frame='grid1000'"
            )
        return FRAME_BY_MODEL_TYPE[model_type]  # type: ignore[return-value]

    def _params(self) -> dict[str, Any]:
        return {
            **super()._params(),
            "frame": self.frame,
            "min_pixels": self.min_pixels,
            "max_pixels": self.max_pixels,
        }

    def _prepare(self, images: Sequence[Image.Image], phrases: Sequence[str]) -> Any:
        prompts = []
        for phrase in phrases:
            text = self.options.prompt.replace("{phrase}", phrase)
            messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": text}]}]
            prompts.append(
                self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            )
        return self.processor(
            images=[im.convert("RGB") for im in images],
            text=prompts,
            return_tensors="pt",
            padding=True,
            size={"shortest_edge": self.min_pixels, "longest_edge": self.max_pixels},
        )

    def _forward(self, prepared: Any) -> Any:
        import torch

        tokenizer = self.processor.tokenizer
        with torch.inference_mode():
            out = self.model.generate(
                **self._to_device(prepared),
                max_new_tokens=self.options.max_new_tokens,
                do_sample=False,
                output_scores=True,
                return_dict_in_generate=True,
                pad_token_id=tokenizer.pad_token_id,
            )
            logprobs = self.model.compute_transition_scores(out.sequences, out.scores, normalize_logits=True)
        new_tokens = out.sequences[:, prepared["input_ids"].shape[1] :]
        return new_tokens.cpu(), logprobs.float().cpu()

    def _postprocess(
        self, outputs: Any, prepared: Any, images: Sequence[Image.Image], phrases: Sequence[str]
    ) -> list[list[Region]]:
        new_tokens, logprobs = outputs
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        results = []
        for tokens, lp, image, phrase in zip(new_tokens.tolist(), logprobs, images, phrases, strict=True):
            length = next((i + 1 for i, t in enumerate(tokens) if t in eos_ids), len(tokens))
            answer = self.processor.tokenizer.decode(tokens[:length], skip_special_tokens=True)
            score = math.exp(float(lp[:length].mean())) if length else 0.0
            results.append(
                answer_regions(
                    answer,
                    score,
                    phrase,
                    self.frame,
                    image.width,
                    image.height,
                    self.provenance,
                    min_pixels=self.min_pixels,
                    max_pixels=self.max_pixels,
                    max_regions=self.options.max_regions,
                )
            )
        return results
