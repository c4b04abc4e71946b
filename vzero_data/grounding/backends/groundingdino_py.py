"""``groundingdino-py``: the original IDEA-Research Grounding DINO code (config file + ``.pth``).

For users who hold original checkpoints (e.g. ``groundingdino_swint_ogc.pth`` with
``GroundingDINO_SwinT_OGC.py``). It needs the ``groundingdino`` package (PyPI: ``groundingdino-py``),
unmaintained since 2023, whose CUDA extension often fails to build and which needs torchvision;
it cannot import on vzero's CPU machines. Prefer the ``grounding-dino`` backend: transformers ports
the same models (``IDEA-Research/grounding-dino-tiny`` / ``-base``). The adapter's own logic
(preprocessing, caption format, normalized ``cxcywh`` to original ``xyxy`` pixels) is tested with a
stand-in module; the real package is not exercised by the test suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image
from pydantic import Field

from vzero_data.grounding.backends.grounding_dino import grounding_dino_caption
from vzero_data.grounding.base import GrounderOptions, ModelGrounder
from vzero_data.grounding.region import Region, regions_from_xyxy

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class GroundingDinoPyUnavailable(ImportError):
    """The ``groundingdino`` package is missing or broken."""


class GroundingDinoPyOptions(GrounderOptions):
    model: str = Field(description="path to the original .pth checkpoint")
    config_file: str = Field(description="path to the original model config (.py)")
    batch_size: int = Field(1, ge=1)
    threshold: float = Field(0.35, ge=0.0, le=1.0, description="box_threshold of the original code")
    text_threshold: float = Field(0.25, ge=0.0, le=1.0)
    shortest_edge: int = Field(800, ge=32)
    longest_edge: int = Field(1333, ge=32)


def import_groundingdino() -> Any:
    """``groundingdino.util.inference``, or a clear error that recommends the ``grounding-dino`` backend."""
    try:
        from groundingdino.util import inference
    except Exception as exc:  # the package fails in many ways: missing, no torchvision, no CUDA extension
        raise GroundingDinoPyUnavailable(
            "the groundingdino-py backend needs the 'groundingdino' package (pip install groundingdino-py, "
            f"which also needs torchvision), and importing it failed: {exc!r}. Use the 'grounding-dino' "
            "backend instead: transformers runs the same models (IDEA-Research/grounding-dino-tiny, -base)."
        ) from exc
    return inference


def cxcywh_normalized_to_xyxy(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(N, 4)`` normalized ``cx, cy, w, h`` (the original code's output) to ``xyxy`` pixels."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    cx, cy, w, h = boxes.T
    return np.stack(
        [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height], 1
    )


def resized_size(width: int, height: int, shortest: int, longest: int) -> tuple[int, int]:
    """``(width, height)`` after the original code's ``RandomResize([shortest], max_size=longest)``
    (DETR's rule: the short side becomes ``shortest`` unless the long side would pass ``longest``;
    the other side is truncated, not rounded)."""
    short, long = min(width, height), max(width, height)
    size = shortest
    if long / short * size > longest:
        size = int(round(longest * short / long))
    if width < height:
        return size, int(size * height / width)
    return int(size * width / height), size


class GroundingDinoPyGrounder(ModelGrounder):
    name = "groundingdino-py"
    Options = GroundingDinoPyOptions
    options: GroundingDinoPyOptions

    def _load(self) -> None:
        self._inference = import_groundingdino()
        self.model = self._inference.load_model(
            self.options.config_file, self.options.model, device=str(self._device)
        )

    def _prepare(self, images: Sequence[Image.Image], phrases: Sequence[str]) -> Any:
        import torch

        tensors = []
        for image in images:
            size = resized_size(
                image.width, image.height, self.options.shortest_edge, self.options.longest_edge
            )
            array = np.asarray(image.convert("RGB").resize(size, Image.BILINEAR), dtype=np.float32) / 255.0
            array = (array - IMAGENET_MEAN) / IMAGENET_STD
            tensors.append(torch.from_numpy(array.transpose(2, 0, 1).astype(np.float32)))
        return tensors, [grounding_dino_caption(p) for p in phrases]

    def _forward(self, prepared: Any) -> Any:
        import torch

        tensors, captions = prepared
        outputs = []
        with torch.inference_mode():
            for tensor, caption in zip(tensors, captions, strict=True):
                boxes, logits, _labels = self._inference.predict(
                    model=self.model,
                    image=tensor,
                    caption=caption,
                    box_threshold=self.options.threshold,
                    text_threshold=self.options.text_threshold,
                    device=str(self._device),
                )
                outputs.append((np.asarray(boxes.float().cpu()), np.asarray(logits.float().cpu())))
        return outputs

    def _postprocess(
        self, outputs: Any, prepared: Any, images: Sequence[Image.Image], phrases: Sequence[str]
    ) -> list[list[Region]]:
        return [
            regions_from_xyxy(
                cxcywh_normalized_to_xyxy(boxes, image.width, image.height).tolist(),
                scores.reshape(-1).tolist(),
                phrase,
                image.width,
                image.height,
                self.provenance,
                max_regions=self.options.max_regions,
            )
            for (boxes, scores), image, phrase in zip(outputs, images, phrases, strict=True)
        ]
