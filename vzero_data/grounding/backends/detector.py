"""Shared base of the transformers zero-shot detectors (Grounding DINO, OWLv2)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image

from vzero_data.grounding.base import ModelGrounder
from vzero_data.grounding.region import Region, regions_from_xyxy


class ZeroShotDetectorGrounder(ModelGrounder):
    """Loads ``AutoModelForZeroShotObjectDetection`` + processor; subclasses write ``_prepare`` and
    ``_detect`` (post-processing to per-image dicts with ``boxes`` and ``scores``)."""

    loads_hub_model = True

    def _load(self) -> None:
        from transformers import AutoModelForZeroShotObjectDetection

        from vzero_core.hf_loading import load_processor
        from vzero_core.model_source import require_model_source

        require_model_source(self.options.model, what=f"{self.name} model")

        self.processor = load_processor(self.options.model)
        self.model = AutoModelForZeroShotObjectDetection.from_pretrained(
            self.options.model, dtype=self._dtype
        )
        self.model.to(self._device).eval()

    def _forward(self, prepared: Any) -> Any:
        import torch

        with torch.inference_mode():
            outputs = self.model(**self._to_device(prepared))
        outputs.logits = outputs.logits.float()
        outputs.pred_boxes = outputs.pred_boxes.float()
        return outputs

    def _detect(
        self, outputs: Any, prepared: Any, images: Sequence[Image.Image], phrases: Sequence[str]
    ) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _postprocess(
        self, outputs: Any, prepared: Any, images: Sequence[Image.Image], phrases: Sequence[str]
    ) -> list[list[Region]]:
        return [
            regions_from_xyxy(
                det["boxes"].cpu().tolist(),
                det["scores"].cpu().tolist(),
                phrase,
                image.width,
                image.height,
                self.provenance,
                max_regions=self.options.max_regions,
            )
            for det, image, phrase in zip(
                self._detect(outputs, prepared, images, phrases), images, phrases, strict=True
            )
        ]
