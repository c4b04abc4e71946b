"""Export a store's training records: full image + positive crop + one negative view per sample.

--format hf    a `datasets` dataset folder (Image features), read back with datasets.load_from_disk
--format verl  one Parquet file with the upstream V-Zero trainer's columns (prompt, images,
               teacher_raw_prompt, teacher_images, teacher_neg_raw_prompt, teacher_neg_images, ...)

Samples lacking the chosen negative strategy are skipped and counted in the summary. With
--audited-by, only views that evidence audit scored and accepted are exported (teacher-verified
negatives); samples it did not audit or rejected are skipped and counted too.

data_source: upstream computes a monitoring reward from data_source on every rollout and stops on a
name it does not know, so the verl export writes one it accepts (--data-source, default zwz_vqa), not
the store's source names. --options-in-prompt shows the lettered options to the policy.

examples:
  vzero-data export data/store --format verl --out train.parquet --negative-strategy downsampled_distractor
  vzero-data export data/store --format verl --out train.parquet --options-in-prompt --data-source vstar
  vzero-data export data/store --format hf --out data/hf_export
  vzero-data export data/store --format verl --out train.parquet --audited-by runs/teacher/step_100/model
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HELP = "export training records (hf dataset folder, or upstream verl Parquet)"
FORMATS = ("hf", "verl")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="store directory")
    parser.add_argument("--format", required=True, help=f"export format: {', '.join(FORMATS)}")
    parser.add_argument("--out", required=True, help="output folder (hf) or .parquet file (verl)")
    parser.add_argument(
        "--negative-strategy", help="negative view strategy (needed when the store has several)"
    )
    parser.add_argument(
        "--positive-strategy", help="positive view strategy (needed when the store has several)"
    )
    parser.add_argument("--random-strategy", help="verl: also write teacher_random_images from this strategy")
    parser.add_argument(
        "--data-source",
        help="verl: the data_source written on every row; upstream's monitoring reward raises for names "
        "it does not know (default: zwz_vqa, scored locally; also vstar, hr_bench, mme_realworld via its judge)",
    )
    parser.add_argument(
        "--options-in-prompt",
        action="store_true",
        help="verl: write the lettered options into the student and teacher prompt (ground truth = letter)",
    )
    parser.add_argument(
        "--config-hash",
        help="only records curated under this config hash (needed when the store has several)",
    )
    parser.add_argument("--limit", type=int, help="export at most this many records")
    parser.add_argument(
        "--audited-by",
        metavar="TEACHER",
        help="only views this evidence audit scored and accepted (a teacher id, name or path, or an audit hash; "
        "see `vzero-data audit`)",
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing output (verl: the file; hf: a dataset folder an earlier export wrote)",
    )


@contextmanager
def _replacing_dataset_folder(out: str, overwrite: bool) -> Iterator[None]:
    """With ``--overwrite``, move an earlier export at ``out`` aside for the ``with`` body: deleted
    if the new export succeeds, put back if it fails. A folder that is not a saved dataset is never
    replaced."""
    from vzero_core.cli_support import CommandError

    old = Path(out)
    if not overwrite or not old.exists():
        yield
        return
    if not (old / "dataset_info.json").is_file() and not (old / "state.json").is_file():
        raise CommandError(f"{old}: exists and is not a dataset folder an export wrote; not replacing it")
    aside = old.with_name(f".{old.name}.replaced-{os.getpid()}")
    os.replace(old, aside)
    try:
        yield
    except BaseException:
        if not old.exists():
            os.replace(aside, old)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError, refuse_to_overwrite
    from vzero_data.store import open_store
    from vzero_data.store.layout import StoreError

    if args.format not in FORMATS:
        raise CommandError(f"unknown export format {args.format!r}; known: {', '.join(FORMATS)}")
    common = dict(
        negative_strategy=args.negative_strategy,
        positive_strategy=args.positive_strategy,
        config_hash=args.config_hash,
        limit=args.limit,
        audited_by=args.audited_by,
    )
    try:
        store = open_store(args.store)
        if args.format == "hf":
            for flag, value in (
                ("--random-strategy", args.random_strategy),
                ("--data-source", args.data_source),
                ("--options-in-prompt", args.options_in_prompt),
            ):
                if value:
                    raise CommandError(f"{flag} applies to --format verl only")
            from vzero_data.store.export_hf import export_hf

            with _replacing_dataset_folder(args.out, args.overwrite):
                summary = export_hf(store, args.out, **common)
        else:
            from vzero_data.store.export_verl import DEFAULT_DATA_SOURCE, export_verl

            refuse_to_overwrite([args.out], args.overwrite)
            summary = export_verl(
                store,
                args.out,
                random_strategy=args.random_strategy,
                data_source=args.data_source or DEFAULT_DATA_SOURCE,
                options_in_prompt=args.options_in_prompt,
                **common,
            )
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    print(json.dumps(summary.as_dict(), indent=2) if args.json else summary.format_text())
    return 0
