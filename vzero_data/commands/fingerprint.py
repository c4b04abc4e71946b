"""Add perceptual fingerprints to a store that lacks them: every stored image and positive crop
without one (a store curated or ingested before fingerprints existed) is decoded and fingerprinted,
and the rows are published as new batches. Curate and ingest fingerprint as they go; `dedup` and
`contamination` need every image fingerprinted. Rerunning finds nothing to do.

examples:
  vzero-data fingerprint data/store
"""

from __future__ import annotations

import argparse
import json

HELP = "add the perceptual fingerprints a store lacks (stores made before fingerprints)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="store directory")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from vzero_core.cli_support import CommandError
    from vzero_data.fingerprints.backfill import backfill
    from vzero_data.store import open_store
    from vzero_data.store.layout import StoreError

    try:
        summary = backfill(open_store(args.store), progress=True)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print(json.dumps(asdict(summary), indent=2))
    elif summary.images or summary.crops:
        print(
            f"fingerprinted {summary.images} images and {summary.crops} positive crops in {args.store}"
            + (
                f"; {summary.unreadable} did not decode (see `vzero-data verify`)"
                if summary.unreadable
                else ""
            )
        )
    else:
        print(f"nothing to do: every image and positive crop in {args.store} has a fingerprint")
    return 0
