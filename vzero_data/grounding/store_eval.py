"""Read a store's samples and regions (through its catalog) and score its grounding per grounder."""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

from vzero_core.boxes import Box
from vzero_data.grounding.evaluation import grounding_score

VIEWS = ("selected", "top1", "any")


def _boxes(values: Any, where: str) -> list[Box]:
    try:
        return [Box.from_xyxy(v) for v in (values or [])]
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def load_truth_and_regions(
    store: str | os.PathLike[str],
) -> tuple[dict[str, list[Box]], list[dict[str, Any]]]:
    """Ground truth per sample id, and every region row (sample_id, grounder, rank, box, selected)."""
    from vzero_data.store import open_store

    opened = open_store(store)
    samples = opened.query("SELECT sample_id, any_value(boxes) AS boxes FROM samples GROUP BY sample_id")
    truth = {
        sample_id: _boxes(boxes, f"{store}: samples row {sample_id}")
        for sample_id, boxes in zip(
            samples.column("sample_id").to_pylist(), samples.column("boxes").to_pylist(), strict=True
        )
    }
    regions = opened.query(
        "SELECT sample_id, grounder, rank, box, coalesce(selected, false) AS selected "
        "FROM regions ORDER BY grounder, sample_id, rank"
    )
    return truth, regions.to_pylist()


def evaluate_store(
    store: str | os.PathLike[str], *, iou_threshold: float = 0.5, grounder: str | None = None
) -> dict[str, Any]:
    """The report ``eval-grounding`` prints: per grounder, a score for each of :data:`VIEWS`."""
    truth, rows = load_truth_and_regions(store)
    per_grounder: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        if grounder is None or row["grounder"] == grounder:
            per_grounder[row["grounder"]][row["sample_id"]].append(row)
    if grounder is not None and grounder not in per_grounder:
        known = sorted({row["grounder"] for row in rows})
        raise ValueError(f"no regions from grounder {grounder!r} in {store}; grounders there: {known}")
    scored = {sid: boxes for sid, boxes in truth.items() if boxes}
    report: dict[str, Any] = {
        "store": str(store),
        "iou_threshold": iou_threshold,
        "samples_with_truth": len(scored),
        "samples_without_truth": len(truth) - len(scored),
        "grounders": {},
    }
    for name in sorted(per_grounder):
        by_sample = per_grounder[name]
        views: dict[str, list[tuple[list[Box], list[Box]]]] = {view: [] for view in VIEWS}
        for sid, truths in scored.items():
            regions = by_sample.get(sid, [])
            boxes = [_boxes([r["box"]], f"{store}: regions row {sid} ({name})")[0] for r in regions]
            ranks = [r["rank"] for r in regions]
            views["selected"].append(
                ([b for r, b in zip(regions, boxes, strict=True) if r["selected"]], truths)
            )
            views["top1"].append(([boxes[ranks.index(min(ranks))]] if boxes else [], truths))
            views["any"].append((boxes, truths))
        report["grounders"][name] = {
            view: grounding_score(pairs, iou_threshold=iou_threshold).to_dict()
            for view, pairs in views.items()
        }
    return report
