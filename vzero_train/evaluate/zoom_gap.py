"""The zooming gap: each question answered on the full image, and again with the evidence crop added.

The first pass is the ordinary evaluation (student template, full image). The second asks the same
question through the teacher template (:data:`vzero_core.prompt_text.DEFAULT_TEACHER_TEMPLATE`: the
full image, the question, then the crop at ``<crop>``), as the teacher sees it in training. The crop
is the one the benchmark ships (ZoomBench), the store's positive view, or else cut from the
benchmark's boxes with curation's positive-crop policy
(:func:`vzero_data.views.positive_view`, :class:`vzero_data.views.CropPolicy`; several boxes are
cropped together). Items without any are skipped with that reason. The report gives both
accuracies with Wilson intervals and the paired difference (crop minus full) over the same items,
with a paired bootstrap interval and an exact sign test: the number to watch before and after
training, since a student that learned to see the detail closes the gap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from vzero_core.boxes import Box
from vzero_core.vlm.prompts import PromptTemplates, build_messages, render_prompt
from vzero_data.benchmarks.items import EvalItem, Skipped
from vzero_train.evaluate.runner import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_NEW_TOKENS,
    EvalResult,
    _batches,
    generate_responses,
    item_question,
)
from vzero_train.evaluate.scoring import score_response

if TYPE_CHECKING:
    from PIL import Image

    from vzero_core.vlm.models import LoadedVLM
    from vzero_data.views import CropPolicy
    from vzero_train.evaluate.judge import Judge

logger = logging.getLogger(__name__)
NO_EVIDENCE = "no box or crop to zoom into"


@dataclass
class ZoomGapResult:
    """Both passes over the items that have evidence, and the items skipped."""

    name: str
    full: EvalResult = field(default_factory=lambda: EvalResult(name="full"))
    zoomed: EvalResult = field(default_factory=lambda: EvalResult(name="zoomed"))
    skipped: list[Skipped] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Accuracy with 95% Wilson interval per pass, and the paired difference zoomed - full."""
        from vzero_train.sandbox.stats import paired_difference

        def view(result: EvalResult) -> dict[str, Any]:
            o = result.summary().overall
            return {"accuracy": o.accuracy, "ci_low": o.ci_low, "ci_high": o.ci_high, "n": o.n}

        out: dict[str, Any] = {
            "benchmark": self.name,
            "full": view(self.full),
            "zoomed": view(self.zoomed),
            "skipped": len(self.skipped),
            "skipped_reasons": sorted({s.reason for s in self.skipped}),
        }
        if self.full.results:
            a = {(0, r.item_id): r.correct for r in self.zoomed.results}
            b = {(0, r.item_id): r.correct for r in self.full.results}
            out["gap"] = paired_difference(a, b)
        return out


def evidence_crop(item: EvalItem, image: Image.Image, policy: CropPolicy | None = None) -> Image.Image | None:
    """The crop to add for ``item``: the one it carries, else its boxes (their union) cut with the
    positive-crop policy; ``None`` when it has neither or its boxes lie outside the image."""
    import numpy as np
    from PIL import Image as PILImage

    from vzero_data.views import ViewRejected, positive_view

    if item.load_crop is not None:
        return item.load_crop().convert("RGB")
    if not item.boxes:
        return None
    union = Box(
        min(b.x1 for b in item.boxes),
        min(b.y1 for b in item.boxes),
        max(b.x2 for b in item.boxes),
        max(b.y2 for b in item.boxes),
    )
    try:
        view = positive_view(np.asarray(image.convert("RGB")), union, policy)
    except ViewRejected as exc:
        logger.warning("%s/%s: no crop (%s)", item.benchmark, item.item_id, exc)
        return None
    return PILImage.fromarray(np.ascontiguousarray(view.pixels))


def evaluate_zoom_gap(
    vlm: LoadedVLM,
    items: Iterable[EvalItem | Skipped],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    templates: PromptTemplates | None = None,
    judge: Judge | None = None,
    crop_policy: CropPolicy | None = None,
    name: str = "",
    progress: bool = True,
) -> ZoomGapResult:
    """Answer every item with evidence twice (greedy, batched): on the full image through the
    student template, then with the crop through the teacher template."""
    from vzero_core.progress import progress_bar

    templates = templates or PromptTemplates()
    result = ZoomGapResult(name=name)
    was_training = vlm.model.training
    vlm.model.eval()
    bar = progress_bar(desc=f"zoom gap {name}".strip(), unit="q", enabled=progress)
    try:
        for batch in _batches(items, batch_size, result.skipped):
            kept = []
            for item, image in batch:
                crop = evidence_crop(item, image, crop_policy)
                if crop is None:
                    result.skipped.append(Skipped(item.item_id, item.benchmark, NO_EVIDENCE))
                else:
                    kept.append((item, image, crop))
            if not kept:
                continue
            for template, target, images in (
                (templates.student, result.full, [img for _, img, _ in kept]),
                (templates.teacher, result.zoomed, [[img, crop] for _, img, crop in kept]),
            ):
                prompts = [
                    render_prompt(
                        vlm.tokenizer, build_messages(template, item_question(it), templates.system)
                    )
                    for it, _, _ in kept
                ]
                responses = generate_responses(vlm, prompts, images, max_new_tokens=max_new_tokens)
                target.results += [
                    score_response(it, r, judge) for (it, _, _), r in zip(kept, responses, strict=True)
                ]
            bar.update(len(kept))
    finally:
        bar.close()
        if was_training:
            vlm.model.train()
    return result


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}"


def zoom_gap_table(summaries: list[dict[str, Any]]) -> str:
    """Markdown: per (checkpoint, benchmark), full and zoomed accuracy with 95% Wilson intervals and
    the paired difference with its 95% bootstrap interval and sign-test p-value."""
    lines = [
        "| checkpoint | benchmark | n | full image % (95% CI) | + crop % (95% CI) | gap, paired (95% CI) | p | skipped |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        full, zoomed, gap = s["full"], s["zoomed"], s.get("gap")
        gap_text = (
            f"{100 * gap['difference']:+.1f} ({100 * gap['ci_low']:+.1f} to {100 * gap['ci_high']:+.1f})"
            if gap
            else "-"
        )
        lines.append(
            f"| {s.get('checkpoint', '')} | {s['benchmark']} | {full['n']} "
            f"| {_pct(full['accuracy'])} ({_pct(full['ci_low'])}-{_pct(full['ci_high'])}) "
            f"| {_pct(zoomed['accuracy'])} ({_pct(zoomed['ci_low'])}-{_pct(zoomed['ci_high'])}) "
            f"| {gap_text} | {gap['p_value']:.2g} | {s['skipped']} |"
            if gap
            else f"| {s.get('checkpoint', '')} | {s['benchmark']} | 0 | - | - | - | - | {s['skipped']} |"
        )
    return "\n".join(lines)
