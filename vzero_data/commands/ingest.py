"""Ingest a data set into a curation store: samples + content-addressed images; rejected rows are
recorded with a reason (see `vzero-data stats`). Re-running skips samples already ingested.

formats: jsonl, csv, hf, vstar, visual_cot, treebench, coco, synthetic, vision_opd, zwz

examples:
  vzero-data ingest --format synthetic data/synth --out data/store
  vzero-data ingest --format jsonl data/items.jsonl --image-root data/images --out data/store
  vzero-data ingest --format hf data/my_saved_dataset --split train --field question=prompt --out data/store
  vzero-data ingest --format coco annotations.json --image-root images/ --question-template "Where is the {category}?" --out data/store
  vzero-data ingest --format jsonl urls.jsonl --out data/store          # image fields that are http(s):// URLs
  vzero-data ingest --format jsonl rows.jsonl --image-root s3://bucket/pool --out data/store

Images may be local paths, http(s):// URLs or fsspec URIs (s3://, gs://, hf://; pip install
"vzero[remote]"); credentials come from the environment and each backend's own config files. An
image that cannot be fetched is recorded as rejected (image_unreachable, with the status or error).
"""

from __future__ import annotations

import argparse
import json

HELP = "ingest a data set (jsonl, csv, hf, vstar, visual_cot, treebench, coco, synthetic, vision_opd, zwz) into a store"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("src", help="source file, folder, or (hf) hub name")
    parser.add_argument("--format", required=True, help="source format name")
    parser.add_argument("--out", required=True, help="store directory (created if missing)")
    parser.add_argument(
        "--image-root",
        help="folder image paths are relative to, local or remote (s3://bucket/pool; default: the source's folder)",
    )
    parser.add_argument("--split", help="split of a Hugging Face dataset")
    parser.add_argument(
        "--field", action="append", default=[], metavar="OURS=THEIRS", help="rename a field (repeatable)"
    )
    parser.add_argument("--question-template", help="coco: question for annotations without one ({category})")
    parser.add_argument(
        "--include-crowd", action="store_true", help="coco: keep crowd (iscrowd=1) annotations as boxes"
    )
    parser.add_argument("--max-pixels", type=int, help="decompression-bomb limit in pixels (default: ~179M)")
    parser.add_argument("--limit", type=int, help="stop after this many new samples")
    parser.add_argument(
        "--strict", action="store_true", help="fail on the first bad row instead of recording it"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    add_fetch_arguments(parser)


def add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--fetch-*`` and ``--image-cache`` flags (remote images); defaults from ``FetchPolicy``."""
    from vzero_data.sources.fetch import FetchPolicy

    d = FetchPolicy()
    group = parser.add_argument_group("remote images")
    group.add_argument("--fetch-concurrency", type=int, default=d.concurrency, help="fetches in flight")
    group.add_argument("--fetch-timeout", type=float, default=d.timeout_s, help="seconds per attempt")
    group.add_argument("--fetch-retries", type=int, default=d.retries, help="retries of transient failures")
    group.add_argument("--image-cache", help="cache of fetched images (default: ~/.cache/vzero/images)")


def fetch_policy(args: argparse.Namespace):
    """The ``FetchPolicy`` the ``--fetch-*`` flags give; a bad value is a located usage error."""
    from pydantic import ValidationError

    from vzero_core.cli_support import CommandError
    from vzero_data.sources.fetch import FetchPolicy

    try:
        return FetchPolicy(
            concurrency=args.fetch_concurrency,
            timeout_s=args.fetch_timeout,
            retries=args.fetch_retries,
            cache_dir=args.image_cache,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise CommandError(f"--fetch-{first['loc'][0]}: {first['msg']}") from None


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vzero_core.cli_support import CommandError
    from vzero_core.image_io import DEFAULT_MAX_PIXELS
    from vzero_core.uris import is_uri
    from vzero_data.ingest import ingest
    from vzero_data.sources import SourceError, SourceOptions
    from vzero_data.store.layout import StoreError

    field_map = {}
    for item in args.field:
        ours, sep, theirs = item.partition("=")
        if not sep or not ours or not theirs:
            raise CommandError(f"--field {item!r}: expected OURS=THEIRS, e.g. question=prompt")
        field_map[ours] = theirs
    options = SourceOptions(
        image_root=(args.image_root if is_uri(args.image_root) else Path(args.image_root))
        if args.image_root
        else None,
        split=args.split,
        max_pixels=args.max_pixels or DEFAULT_MAX_PIXELS,
        field_map=field_map,
        question_template=args.question_template,
        include_crowd=args.include_crowd,
    )
    try:
        summary = ingest(
            args.src,
            args.format,
            args.out,
            options=options,
            strict=args.strict,
            limit=args.limit,
            fetch=fetch_policy(args),
        )
    except (SourceError, StoreError) as exc:
        raise CommandError(str(exc)) from exc
    rows_read = summary.ingested + summary.skipped_done + sum(summary.rejected.values())
    if args.json:
        print(json.dumps({**summary.as_dict(), "rows_read": rows_read}, indent=2))
    else:
        rejected = ", ".join(f"{k}: {v}" for k, v in sorted(summary.rejected.items())) or "none"
        print(
            f"read {rows_read} rows from {args.src} ({args.format}); ingested {summary.ingested} samples "
            f"into {args.out} in {summary.seconds:.1f}s; already there: {summary.skipped_done}; "
            f"new images: {summary.images_new}; rejected: {rejected}"
        )
    report_rejects(summary, rows_read, args.src)
    return 0


def report_rejects(summary, rows_read: int, src: str) -> None:
    """Warn when most rows were rejected; fail (exit 1) when nothing was kept from a non-empty
    source, or the source was empty."""
    import sys

    from vzero_core.cli_support import EmptyResult
    from vzero_data.pipeline.reject_report import empty_run_problem, rejection_warning

    problem = empty_run_problem(
        rows_read=rows_read,
        kept=summary.ingested,
        already_done=summary.skipped_done,
        rejected=summary.rejected,
        source=src,
    )
    if problem:
        raise EmptyResult(problem)
    warning = rejection_warning(summary.rejected, rows_read - summary.skipped_done)
    if warning:
        print(warning, file=sys.stderr)
