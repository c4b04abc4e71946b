"""Read a store's samples and regions (Parquet shards) and score its grounding per grounder."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from vzero_data.boxes import Box
from vzero_data.grounding.evaluation import grounding_score

VIEWS = ("selected", "top1", "any")


def _shard_glob(store: Path, table: str) -> str:
    files = sorted(store.glob(f"shards/*/{table}.parquet"))
    if not files:
        raise FileNotFoundError(f"{store}: no shards/*/{table}.parquet files (is this a vzero store?)")
    return str(store / "shards" / "*" / f"{table}.parquet")


def _boxes(values: Any, where: str) -> list[Box]:
    try:
        return [Box.from_xyxy(v) for v in (values or [])]
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from exc


def load_truth_and_regions(
    store: str | os.PathLike[str],
) -> tuple[dict[str, list[Box]], list[dict[str, Any]]]:
    """Ground truth per sample id, and every region row (sample_id, grounder, rank, box, selected)."""
    import duckdb

    root = Path(store)
    samples = _shard_glob(root, "samples")
    regions = _shard_glob(root, "regions")
    con = duckdb.connect()
    truth = {
        sample_id: _boxes(boxes, f"{root}: samples row {sample_id}")
        for sample_id, boxes in con.execute(
            f"SELECT sample_id, any_value(boxes) FROM read_parquet('{samples}') GROUP BY sample_id"
        ).fetchall()
    }
    rows = con.execute(
        f"SELECT sample_id, grounder, rank, box, coalesce(selected, false) "
        f"FROM read_parquet('{regions}') ORDER BY grounder, sample_id, rank"
    ).fetchall()
    region_rows = [
        {"sample_id": s, "grounder": g, "rank": r, "box": box, "selected": bool(sel)}
        for s, g, r, box, sel in rows
    ]
    return truth, region_rows


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
