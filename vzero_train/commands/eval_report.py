"""Merge saved evaluation results into one report: comparison table, Markdown, accuracy-vs-step plot.

Use it when checkpoints were evaluated in separate runs (for example one job per checkpoint).
Each RESULTS is a results.json written by `vzero-train eval`, or the folder holding it.

example:
  vzero-train eval-report eval_step20/ eval_step40/ eval_step60/ --out eval_all
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vzero_core.cli_support import CommandError

HELP = "merge results.json files of several eval runs into one comparison report and plot"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="+", type=Path, metavar="RESULTS", help="results.json or its folder")
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument("--no-plot", action="store_true", help="do not draw the accuracy-vs-step plot")


def run(args: argparse.Namespace) -> int:
    from vzero_train.evaluate.report import comparison_table, load_report, merge_reports, write_report

    try:
        report = merge_reports([load_report(p) for p in args.results])
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    paths = write_report(report, args.out, plot=not args.no_plot)
    if "differs" in report["settings"]:
        print(f"note: the runs differ in {', '.join(report['settings']['differs'])}")
    print(comparison_table(report))
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0
