"""``annotated``: the boxes the data set already has (V* Bench, Visual-CoT, TreeBench, synthetic).

No model: each sample's ``boxes`` become regions with a fixed score. A sample without boxes gets no
region, so selection rejects it with ``no_box`` (recorded, not dropped).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from vzero_core.sample import Sample
from vzero_data.grounding.base import check_inputs
from vzero_data.grounding.region import Region, regions_from_xyxy


class AnnotatedOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    score: float = Field(1.0, description="score given to every annotated box")


class AnnotatedGrounder:
    name = "annotated"
    output_version = 1  # part of the config hash: bump when the boxes it returns change
    Options = AnnotatedOptions
    reads_pixels = False  # boxes come from the samples: the images are never decoded here

    def __init__(self, options: AnnotatedOptions | None = None) -> None:
        self.options = options or AnnotatedOptions()

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def provenance(self) -> dict[str, Any]:
        from vzero_core import __version__

        return {
            "backend": self.name,
            "model": None,
            "params": self.options.model_dump(),
            "versions": {"vzero": __version__},
        }

    def locate(
        self,
        images: Sequence[Image.Image],
        phrases: Sequence[str],
        *,
        samples: Sequence[Sample] | None = None,
    ) -> list[list[Region]]:
        check_inputs(images, phrases)
        if samples is None or len(samples) != len(images):
            got = "none" if samples is None else len(samples)
            raise ValueError(
                f"the annotated grounder reads boxes from samples: got {got} for {len(images)} images"
            )
        provenance = self.provenance
        results = []
        for image, phrase, sample in zip(images, phrases, samples, strict=True):
            if image.size != (sample.width, sample.height):
                raise ValueError(
                    f"sample {sample.sample_id}: image is {image.width}x{image.height} but the sample "
                    f"says {sample.width}x{sample.height}; its boxes would be in the wrong frame"
                )
            xyxy = [box.to_list() for box in sample.boxes]
            scores = [self.options.score] * len(xyxy)
            results.append(regions_from_xyxy(xyxy, scores, phrase, image.width, image.height, provenance))
        return results
