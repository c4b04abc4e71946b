"""``owlv2``: OWLv2 open-vocabulary detection through transformers.

Default checkpoint ``google/owlv2-base-patch16-ensemble`` (also ``google/owlv2-large-patch14-ensemble``
or a local folder). OWLv2 pads every image at the bottom and right to a square before resizing, so
its normalized boxes are fractions of the padded square: the target size passed to post-processing
must be ``(max(h, w), max(h, w))``, or boxes of non-square images shift and shrink
(:func:`owlv2_target_size`). Several objects in one phrase (``"cat. dog"``) become separate queries.
In a batch, the processor pads each image's query list to the longest with ``" "`` queries that the
model does not mask (their first token is the start token, not 0); :func:`mask_padded_queries`
removes them, or a blank query's best boxes would be reported for the image.
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


def mask_padded_queries(logits: Any, query_counts: Sequence[int]) -> Any:
    """``logits`` (batch, boxes, queries) with each image's padding queries (index >= its count)
    at the lowest value, so no box is ever attributed to one."""
    import torch

    counts = torch.tensor(query_counts, device=logits.device)
    padding = torch.arange(logits.shape[-1], device=logits.device)[None, :] >= counts[:, None]
    return logits.masked_fill(padding[:, None, :], torch.finfo(logits.dtype).min)


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

    def _detect(
        self, outputs: Any, prepared: Any, images: Sequence[Image.Image], phrases: Sequence[str]
    ) -> list[dict[str, Any]]:
        outputs.logits = mask_padded_queries(outputs.logits, [len(owlv2_queries(p)) for p in phrases])
        return self.processor.post_process_grounded_object_detection(
            outputs,
            threshold=self.options.threshold,
            target_sizes=[owlv2_target_size(im.width, im.height) for im in images],
        )
