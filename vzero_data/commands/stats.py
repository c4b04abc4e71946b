"""Summarize a store: counts by source, config, grounder and view strategy, rejects by reason, samples
audited per teacher (evidence audits), and the distribution of box area relative to image area.

example:
  vzero-data stats data/store
"""

from __future__ import annotations

import argparse
import json

HELP = "summarize a store (sources, grounders, strategies, rejects, box areas)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="store directory, or a published store's URI (s3://...)")
    parser.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_data.store import open_store
    from vzero_data.store.layout import StoreError
    from vzero_data.store.stats import format_stats, store_stats

    try:
        stats = store_stats(open_store(args.store))
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    print(json.dumps(stats, indent=2, default=str) if args.json else format_stats(stats))
    return 0
