"""``owlv2``: OWLv2 open-vocabulary detection through transformers.

Default checkpoint ``google/owlv2-base-patch16-ensemble`` (also ``google/owlv2-large-patch14-ensemble``
or a local folder). OWLv2 pads every image at the bottom and right to a square before resizing, so
its normalized boxes are fractions of the padded square: the target size passed to post-processing
must be ``(max(h, w), max(h, w))``, or boxes of non-square images shift and shrink
(:func:`owlv2_target_size`). Several objects in one phrase (``"cat. dog"``) become separate queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image
from pydantic import Field

from vzero_data.grounding.backends.detector import ZeroShotDetectorGrounder
from vzero_data.grounding.base import GrounderOptions
from vzero_data.grounding.phrases import split_phrases


class Owlv2Options(GrounderOptions):
    model: str = "google/owlv2-base-patch16-ensemble"
    threshold: float = Field(0.1, ge=0.0, le=1.0)


def owlv2_target_size(width: int, height: int) -> tuple[int, int]:
    """The ``(height, width)`` to scale OWLv2's boxes by: the side of the padded square."""
    side = max(width, height)
    return (side, side)


def owlv2_queries(phrase: str) -> list[str]:
    """``"A red car. the dog"`` -> ``["a red car", "the dog"]``."""
    return [p.lower() for p in split_phrases(phrase)]


class Owlv2Grounder(ZeroShotDetectorGrounder):
    name = "owlv2"
    Options = Owlv2Options
    options: Owlv2Options

    def _prepare(self, images: Sequence[Image.Image], phrases: Sequence[str]) -> Any:
        return self.processor(
            text=[owlv2_queries(p) for p in phrases],
            images=[im.convert("RGB") for im in images],
            return_tensors="pt",
            padding="max_length",
            max_length=int(self.model.config.text_config.max_position_embeddings),
            truncation=True,
        )

    def _detect(self, outputs: Any, prepared: Any, images: Sequence[Image.Image]) -> list[dict[str, Any]]:
        return self.processor.post_process_grounded_object_detection(
            outputs,
            threshold=self.options.threshold,
            target_sizes=[owlv2_target_size(im.width, im.height) for im in images],
        )
