"""The grounding stage: locate the question-relevant region for a batch of samples on one device,
then choose the target box (``grounding.selection``)."""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from vzero_core.boxes import Box, union_box
from vzero_core.sample import Sample
from vzero_data.pipeline.plugins import grounder_options
from vzero_data.pipeline.recipe import Recipe
from vzero_data.pipeline.results import SampleResult, error_reason, rejected
from vzero_data.pipeline.stages.decode import UnreadableImage, unreadable


@dataclass
class Grounded:
    """A sample with its target box chosen and its encoded image, on its way to the view stage."""

    sample: Sample
    target: Box
    image_bytes: bytes
    image_format: str
    regions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def sample_id(self) -> str:
        return self.sample.sample_id


class GroundingStage:
    """Locate the question-relevant region for a batch of samples on one device, then select it.

    The grounder (and any model weights) is built on first use, so a run with nothing to do never
    loads a model; a grounder that cannot be built fails the run (it is not any sample's fault, and
    rejects would mark every sample done). Failures of one sample (no phrase, no acceptable box)
    become rejects; a failure of the whole batch (the model call itself) rejects every sample in it
    with the error.
    """

    def __init__(self, recipe: Recipe) -> None:
        self.recipe = recipe

    @cached_property
    def grounder(self) -> Any:
        from vzero_data.grounding import get_grounder
        from vzero_data.grounding.registry import grounder_class

        name = self.recipe.grounding.backend
        fields = grounder_class(name).Options.model_fields
        return get_grounder(name, **grounder_options(self.recipe, fields))

    def __call__(self, items: list[Any]) -> list[Grounded | SampleResult]:
        from vzero_data.grounding import extract_phrase

        out: list[Grounded | SampleResult | None] = [None] * len(items)
        todo: list[tuple[int, Any, str]] = []
        for i, item in enumerate(items):
            try:
                todo.append((i, item, extract_phrase(item.sample)))
            except ValueError as exc:
                out[i] = rejected(item.sample, "grounding", "no_phrase", str(exc))
        if todo:
            grounder = self.grounder
            if getattr(grounder, "reads_pixels", True):
                todo = self._decodable(todo, out)
        if todo:
            try:
                images = [lazy_image(item) for _, item, _ in todo]
                regions = grounder.locate(
                    images, [phrase for _, _, phrase in todo], samples=[item.sample for _, item, _ in todo]
                )
            except Exception as exc:  # the batch failed: record it on each of its samples
                detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
                for i, item, _ in todo:
                    out[i] = rejected(item.sample, "grounding", error_reason(exc), detail)
            else:
                for (i, item, _), found in zip(todo, regions, strict=True):
                    out[i] = self._select(item, found)
        return [o for o in out if o is not None]

    def _decodable(
        self, todo: list[tuple[int, Any, str]], out: list[Grounded | SampleResult | None]
    ) -> list[tuple[int, Any, str]]:
        """The items whose images decode; the others are rejected here, one by one, instead of
        failing the model's whole batch (the source read only their headers)."""
        from vzero_core.image_io import ImageDecodeError, decode_image

        keep = []
        for i, item, phrase in todo:
            where = f"sample {item.sample.sample_id} image {item.sample.image}"
            try:
                decode_image(item.image_bytes, where, max_pixels=self.recipe.source.max_pixels)
            except ImageDecodeError as exc:
                out[i] = unreadable(item.sample, UnreadableImage(str(exc)))
                continue
            keep.append((i, item, phrase))
        return keep

    def _select(self, item: Any, found: list[Any]) -> Grounded | SampleResult:
        from vzero_data.grounding import GroundingRejected, Region, select_regions
        from vzero_data.grounding.selection import size_problem

        sample = item.sample
        policy = self.recipe.grounding.selection
        try:
            chosen = select_regions(found, sample.width, sample.height, policy)
        except GroundingRejected as exc:
            return rejected(sample, "grounding", exc.reason, exc.detail, regions=region_rows(found, []))
        target = chosen[0].box if len(chosen) == 1 else union_box([r.box for r in chosen])
        if len(chosen) > 1:
            # mode "all" checks each box; the views cut their union, which must be fine-grained too.
            problem = size_problem(
                Region(target, chosen[0].score, chosen[0].phrase, {}), sample.width, sample.height, policy
            )
            if problem is not None:
                detail = f"the {len(chosen)} selected boxes together: {problem.detail}"
                return rejected(
                    sample, "grounding", problem.reason, detail, regions=region_rows(found, chosen)
                )
        return Grounded(
            sample=sample,
            target=target,
            image_bytes=item.image_bytes,
            image_format=item.image.format,
            regions=region_rows(found, chosen),
        )


def lazy_image(item: Any) -> Any:
    """A PIL image of the item's bytes, opened lazily: header only until a model reads its pixels.

    The source checked its header against the recipe's pixel limit, and :meth:`GroundingStage._decodable`
    its pixel data for grounders that read pixels.
    """
    import io

    from PIL import Image

    return Image.open(io.BytesIO(item.image_bytes))


def region_rows(found: list[Any], chosen: list[Any]) -> list[dict[str, Any]]:
    """Rows for the store's ``regions`` table: every region found, the chosen ones marked selected
    (a region that selection made, such as a ``union`` of several, is added as a selected row)."""
    merged = [c for c in chosen if c not in found]
    rows = []
    for rank, region in enumerate([*found, *merged]):
        prov = dict(region.provenance)
        rows.append(
            {
                "rank": rank,
                "box": region.box.to_list(),
                "score": region.score,
                "phrase": region.phrase,
                "grounder": prov.get("backend"),
                "model": prov.get("model"),
                "params": prov.get("params", {}),
                "selected": region in chosen,
            }
        )
    return rows


def ground_stream(
    items: Iterable[Sample | SampleResult], stage: GroundingStage, batch_size: int, summary: Any, bars: Any
) -> Iterator[Grounded | SampleResult]:
    """Group samples into batches for ``stage``; pass already-rejected items straight through."""
    batch: list[Sample] = []

    def flush() -> Iterator[Grounded | SampleResult]:
        with summary.timed("grounding"):
            out = stage(batch)
        bars.update("grounding", len(batch))
        batch.clear()
        yield from out

    for item in items:
        if isinstance(item, SampleResult):
            yield item
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            yield from flush()
    if batch:
        yield from flush()
