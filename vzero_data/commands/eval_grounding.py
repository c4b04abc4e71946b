"""Evaluate grounding in a store against its ground-truth boxes: recall at IoU 0.5 and mean IoU.

Reads the store's samples (boxes = ground truth) and regions (grounder, rank, box, selected). For
each grounder, three views of its predictions:
  selected  the regions the selection policy kept (a rejected sample scores 0)
  top1      the region ranked first
  any       the best of all its regions (an upper bound for any selection policy)
Samples without ground-truth boxes are counted and skipped.

example:
  vzero-data eval-grounding data/store --iou 0.5
"""

from __future__ import annotations

import argparse
import json

HELP = "recall@IoU and mean IoU of stored regions against ground-truth boxes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="a vzero store directory (its samples and regions are scored)")
    parser.add_argument("--iou", type=float, default=0.5, help="IoU threshold for recall (default: 0.5)")
    parser.add_argument("--grounder", default=None, help="only this grounder (default: all in the store)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_data.grounding.store_eval import evaluate_store

    try:
        report = evaluate_store(args.store, iou_threshold=args.iou, grounder=args.grounder)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def format_report(report: dict) -> str:
    lines = [
        f"grounding evaluation of {report['store']}: {report['samples_with_truth']} samples with ground truth "
        f"({report['samples_without_truth']} without, skipped); recall at IoU >= {report['iou_threshold']:g}",
        f"  {'grounder':<24} {'view':<9} {'recall':>7} {'mean IoU':>9} {'no box':>7}",
    ]
    for grounder, views in report["grounders"].items():
        for view, score in views.items():
            lines.append(
                f"  {grounder:<24} {view:<9} {score['recall']:>7.1%} {score['mean_iou']:>9.3f} "
                f"{score['without_prediction']:>7}"
            )
    if not report["grounders"]:
        lines.append("  (no regions in the store)")
    return "\n".join(lines)
