"""Preview curated views: writes OUT/contact_sheet.png and OUT/gallery.html (self-contained, images
inlined) showing, for N samples, the full image with the target box drawn, the positive crop, and
each negative view labelled with its strategy (rejected negatives show their reason).

Read from a store or from a folder written by
vzero_data.views.write_views_folder.

examples:
  vzero-data preview --store demo_out/store --out demo_out/preview --n 8
  vzero-data preview --views-dir views_dir --out preview
"""

from __future__ import annotations

import argparse

HELP = "contact sheet (PNG) and HTML gallery of positive crops and negative views"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--store", help="a vzero store directory")
    src.add_argument("--views-dir", help="a folder of views (views.jsonl + images/)")
    parser.add_argument("--out", required=True, help="output directory")
    parser.add_argument("--n", type=int, default=8, help="number of samples to show (default: 8)")
    parser.add_argument("--config-hash", help="with --store: only views of this curation config")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing preview in --out")
    parser.add_argument(
        "--tile", type=int, default=192, help="contact-sheet cell size in pixels (default: 192)"
    )


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vzero_core.cli_support import CommandError, refuse_to_overwrite
    from vzero_data.preview import items_from_store, items_from_views_folder, write_preview

    if args.n < 1:
        raise CommandError(f"--n must be at least 1, got {args.n}")
    if args.tile < 32:
        raise CommandError(f"--tile must be at least 32, got {args.tile}")
    refuse_to_overwrite(
        [Path(args.out) / "contact_sheet.png", Path(args.out) / "gallery.html"], args.overwrite
    )
    try:
        if args.store:
            items = list(items_from_store(args.store, args.n, config_hash=args.config_hash))
        else:
            items = list(items_from_views_folder(args.views_dir, args.n))
        if not items:
            raise CommandError(f"no views found in {args.store or args.views_dir}")
        sheet, gallery = write_preview(items, args.out, tile=args.tile)
    except (FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    n_views = sum(t.pixels is not None for item in items for t in item.tiles)
    print(f"preview of {len(items)} samples, {n_views} views: {sheet} and {gallery}")
    return 0
