"""Export a store's training records: full image + positive crop + one negative view per sample.

--format hf          a `datasets` dataset folder (Image features), read back with datasets.load_from_disk
--format verl        one Parquet file with the upstream V-Zero trainer's columns (prompt, images,
                     teacher_raw_prompt, teacher_images, teacher_neg_raw_prompt, teacher_neg_images, ...)
--format swift       ms-swift GKD/OPD: a folder with train.jsonl (messages, images, teacher_prompt,
                     teacher_images) and images/; train with ROOT_IMAGE_DIR=OUT and --lmbda 1
--format trl         TRL DistillationTrainer: a `datasets` folder (prompt, images) with the teacher's
                     view beside it (teacher_prompt, teacher_images)
--format vision_opd  Vision-OPD's released layout: train.jsonl (problem, images, teacher_images,
                     answer) + images/ + teacher_images/, for its scripts/prepare_data.py

The question is the one training shows (lettered options in the sample's fixed order and an answer
instruction), except in the verl export, which keeps its own --options-in-prompt switch.

The negative strategy is --negative-strategy, else the store's only one, else the paper's default
(downsampled_distractor, the one training uses) when the store has it. Samples lacking it are
skipped and counted in the summary. --format verl --out takes a .parquet file or a folder (which
gets train.parquet). With --audited-by (any format), only views that evidence audit scored and
accepted are exported (teacher-verified negatives); samples it did not audit or rejected are
skipped and counted too.

data_source: upstream computes a monitoring reward from data_source on every rollout and stops on a
name it does not know, so the verl export writes one it accepts (--data-source, default zwz_vqa), not
the store's source names. --options-in-prompt shows the lettered options to the policy.

examples:
  vzero-data export data/store --format verl --out train.parquet --negative-strategy downsampled_distractor
  vzero-data export data/store --format verl --out train.parquet --options-in-prompt --data-source vstar
  vzero-data export data/store --format hf --out data/hf_export
  vzero-data export data/store --format swift --out data/swift_export --negative-strategy masked
  vzero-data export data/store --format verl --out data/verl        # data/verl/train.parquet
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

HELP = "export training records (hf, verl, swift, trl, vision_opd)"
FORMATS = ("hf", "verl", "swift", "trl", "vision_opd")
FOLDER_EXPORTS = {
    "swift": ("vzero_data.store.export_swift", "export_swift", "train.jsonl", "train.jsonl folder"),
    "trl": ("vzero_data.store.export_trl", "export_trl", "dataset_info.json", "dataset folder"),
    "vision_opd": (
        "vzero_data.store.export_vision_opd",
        "export_vision_opd",
        "train.jsonl",
        "train.jsonl folder",
    ),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="store directory, or a published store's URI (s3://...)")
    parser.add_argument("--format", required=True, help=f"export format: {', '.join(FORMATS)}")
    parser.add_argument(
        "--out",
        required=True,
        help="output folder (hf); .parquet file, or a folder that gets train.parquet (verl)",
    )
    parser.add_argument(
        "--negative-strategy",
        help="negative view strategy (default: the store's only one, else downsampled_distractor "
        "when it has it, as training does; otherwise required)",
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
def _replacing_export_folder(
    out: str, overwrite: bool, markers: tuple[str, ...], what: str = "dataset folder"
) -> Iterator[None]:
    """With ``--overwrite``, move an earlier export at ``out`` aside for the ``with`` body: deleted
    if the new export succeeds, put back if it fails. A folder holding none of ``markers`` (files an
    export of this format writes) is never replaced."""
    from vzero_core.cli_support import CommandError

    old = Path(out)
    if not overwrite or not old.exists():
        yield
        return
    if not any((old / marker).is_file() for marker in markers):
        raise CommandError(f"{old}: exists and is not a {what} an export wrote; not replacing it")
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
        if args.format != "verl":
            for flag, value in (
                ("--random-strategy", args.random_strategy),
                ("--data-source", args.data_source),
                ("--options-in-prompt", args.options_in_prompt),
            ):
                if value:
                    raise CommandError(f"{flag} applies to --format verl only")
        if args.format == "hf":
            from vzero_data.store.export_hf import export_hf

            with _replacing_export_folder(args.out, args.overwrite, ("dataset_info.json", "state.json")):
                summary = export_hf(store, args.out, **common)
        elif args.format in FOLDER_EXPORTS:
            import importlib

            module, function, marker, what = FOLDER_EXPORTS[args.format]
            export = getattr(importlib.import_module(module), function)
            with _replacing_export_folder(args.out, args.overwrite, (marker,), what):
                summary = export(store, args.out, **common)
        else:
            from vzero_data.store.export_verl import DEFAULT_DATA_SOURCE, export_verl, verl_output_file

            out = verl_output_file(args.out)
            refuse_to_overwrite([out], args.overwrite)
            summary = export_verl(
                store,
                out,
                random_strategy=args.random_strategy,
                data_source=args.data_source or DEFAULT_DATA_SOURCE,
                options_in_prompt=args.options_in_prompt,
                **common,
            )
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    print(json.dumps(summary.as_dict(), indent=2) if args.json else summary.format_text())
    return 0
