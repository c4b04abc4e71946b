"""``grounding-dino``: transformers' zero-shot object detection with Grounding DINO.

Loads any checkpoint ``AutoModelForZeroShotObjectDetection`` maps to Grounding DINO, e.g.
``IDEA-Research/grounding-dino-tiny`` (default), ``IDEA-Research/grounding-dino-base``, and the
MM-Grounding-DINO ports such as ``openmmlab-community/mm_grounding_dino_tiny_o365v1_goldg``
(same class, same code path), or a local folder. Phrases are lower-cased and every phrase ends
with ``"."`` (the model's caption format; several objects are ``"a cat. a dog."``). Boxes above
``threshold`` are kept; ``text_threshold`` decides which caption tokens label a box. Both default to
the ecosystem's 0.35 / 0.25. Boxes come back scaled to each image's original ``(height, width)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image
from pydantic import Field

from vzero_data.grounding.backends.detector import ZeroShotDetectorGrounder
from vzero_data.grounding.base import GrounderOptions
from vzero_data.grounding.phrases import split_phrases


class GroundingDinoOptions(GrounderOptions):
    model: str = "IDEA-Research/grounding-dino-tiny"
    threshold: float = Field(
        0.35, ge=0.0, le=1.0, description="box score threshold (older code: box_threshold)"
    )
    text_threshold: float = Field(0.25, ge=0.0, le=1.0)


def grounding_dino_caption(phrase: str) -> str:
    """Lower-case, one ``"."`` after each ``"."``-separated phrase: ``"Red Car. dog"`` -> ``"red car. dog."``."""
    return " ".join(f"{p.lower()}." for p in split_phrases(phrase))


class GroundingDinoGrounder(ZeroShotDetectorGrounder):
    name = "grounding-dino"
    Options = GroundingDinoOptions
    options: GroundingDinoOptions

    def _prepare(self, images: Sequence[Image.Image], phrases: Sequence[str]) -> Any:
        captions = [grounding_dino_caption(p) for p in phrases]
        rgb = [im.convert("RGB") for im in images]
        return self.processor(images=rgb, text=captions, return_tensors="pt", padding=True)

    def _detect(
        self, outputs: Any, prepared: Any, images: Sequence[Image.Image], phrases: Sequence[str]
    ) -> list[dict[str, Any]]:
        return self.processor.post_process_grounded_object_detection(
            outputs,
            prepared["input_ids"].to(outputs.logits.device),
            threshold=self.options.threshold,
            text_threshold=self.options.text_threshold,
            target_sizes=[(im.height, im.width) for im in images],
        )
