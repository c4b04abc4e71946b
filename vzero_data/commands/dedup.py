"""Find near-duplicate samples within a store and remove all but one of each cluster.

Two samples are near-duplicates when they ask the same question about near-duplicate images (pHash
within --distance bits, or one a cropped copy of the other) or with near-duplicate positive crops;
--any-question drops the question condition. One sample per cluster is kept (--keep first: the
first stored; largest: the largest image). Each removed sample gets a `rejects` row (stage dedup,
reason near_duplicate) naming the kept sample; training records and exports skip it. Nothing is
deleted, and a rerun finds nothing new. --dry-run reports without writing.

examples:
  vzero-data dedup data/store --dry-run
  vzero-data dedup data/store --distance 8 --keep largest --json
"""

from __future__ import annotations

import argparse
import json

HELP = "near-duplicate clusters in a store (images and crops); removals recorded as rejects"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vzero_data.fingerprints.dedup import KEEP_POLICIES
    from vzero_data.fingerprints.search import DEFAULT_MAX_DISTANCE

    parser.add_argument("store", help="store directory")
    parser.add_argument(
        "--distance", type=int, default=DEFAULT_MAX_DISTANCE, help="pHash bits for a near-duplicate (0-15)"
    )
    parser.add_argument(
        "--keep", choices=KEEP_POLICIES, default="first", help="which sample of a cluster stays"
    )
    parser.add_argument("--no-regions", action="store_true", help="whole-image pHash only: no cropped copies")
    parser.add_argument("--any-question", action="store_true", help="near-duplicate images whatever they ask")
    parser.add_argument("--dry-run", action="store_true", help="report the clusters, write nothing")
    parser.add_argument("--json", action="store_true", help="print the clusters as JSON")


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_data.fingerprints.dedup import find_clusters, record_removals
    from vzero_data.fingerprints.phash_index import MAX_DISTANCE_LIMIT
    from vzero_data.fingerprints.pictures import MissingFingerprints
    from vzero_data.store import open_store
    from vzero_data.store.layout import StoreError

    if not 0 <= args.distance <= MAX_DISTANCE_LIMIT:
        raise CommandError(f"--distance must be within 0..{MAX_DISTANCE_LIMIT} bits, got {args.distance}")
    settings = {
        "distance": args.distance,
        "keep": args.keep,
        "regions": not args.no_regions,
        "any_question": args.any_question,
    }
    try:
        store = open_store(args.store)
        result = find_clusters(
            store,
            max_distance=args.distance,
            keep=args.keep,
            regions=not args.no_regions,
            any_question=args.any_question,
            progress=True,
        )
        if not args.dry_run and result.clusters:
            record_removals(store, result, settings=settings)
    except (StoreError, MissingFingerprints) as exc:
        raise CommandError(str(exc)) from exc
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
        return 0
    verb = "would remove" if args.dry_run else "removed"
    print(
        f"{result.samples} samples, {len(result.clusters)} near-duplicate clusters; {verb} {result.removed} "
        f"(kept: {args.keep})"
    )
    for cluster in result.clusters:
        print(f"  kept {cluster.kept}")
        for r in cluster.removed:
            print(f"    {verb} {r.sample_id}: {r.how}")
    return 0
