"""Evaluate one or more checkpoints on full-image benchmarks; write a report with 95% CIs.

The model sees the full image through the student template (as in training), with the options
and an answer instruction appended; decoding is greedy and batched. Formats (detected from the
source unless --format is given): store, vstar, hrbench, mme_realworld, mme_realworld_lite,
treebench, zoombench, visualprobe, synthetic.

Writes OUT/results.json, OUT/report.md, OUT/predictions/<checkpoint>/<benchmark>.jsonl (every
response, streamed as produced) and, for several checkpoints, OUT/accuracy_vs_step.png.

--zoom-gap answers each question twice instead: on the full image, and with the evidence crop added
through the teacher template (the crop the benchmark ships, the store's positive view, or its boxes
cut with curation's positive-crop policy); items with neither are skipped. Writes OUT/zoom_gap.json
and OUT/zoom_gap.md: both accuracies with 95% Wilson intervals and the paired difference with its
95% bootstrap interval.

examples:
  vzero-train eval --model Qwen/Qwen2.5-VL-3B-Instruct --data vstar_bench/ --out eval_out
  vzero-train eval --model runs/a/checkpoint-20 --model runs/a/checkpoint-40 \\
      --data HR-Bench/hr_bench_4k.tsv --data MME-RealWorld/MME_RealWorld.json --out eval_out
  vzero-train eval --model tiny/ --data demo_out/synth --format synthetic --limit 16 --out eval_out
  vzero-train eval --zoom-gap --model Qwen/Qwen2.5-VL-3B-Instruct --data vstar_bench/ --out gap_out
"""

from __future__ import annotations

import argparse
import gc
import logging
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vzero_core.cli_support import CommandError

if TYPE_CHECKING:
    from vzero_core.stage_times import StageTimes
    from vzero_core.vlm.prompts import PromptTemplates
    from vzero_data.benchmarks import Benchmark
    from vzero_train.evaluate.judge import Judge
    from vzero_train.evaluate.runner import EvalResult

HELP = "evaluate checkpoints on full-image benchmarks (JSON + Markdown report, CIs, plot)"

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="PATH_OR_ID",
        help="checkpoint folder or hub id; repeat to compare checkpoints",
    )
    parser.add_argument(
        "--data",
        action="append",
        required=True,
        metavar="SRC",
        help="benchmark file or folder; repeat for several benchmarks",
    )
    parser.add_argument(
        "--format",
        action="append",
        metavar="NAME",
        help="benchmark format: once for all --data, or once per --data (default: detect)",
    )
    parser.add_argument(
        "--name",
        action="append",
        metavar="NAME",
        help="benchmark display name, once per --data (default: file or folder name)",
    )
    parser.add_argument("--out", required=True, type=Path, help="output folder")
    parser.add_argument(
        "--step",
        action="append",
        type=int,
        metavar="N",
        help="training step of each --model, in order (default: read from names like checkpoint-60)",
    )
    parser.add_argument("--image-root", type=Path, help="folder that image paths in --data are relative to")
    parser.add_argument(
        "--batch-size", type=int, default=8, help="questions answered per forward pass (default: 8)"
    )
    parser.add_argument(
        "--max-new-tokens", type=int, default=64, help="longest answer generated, in tokens (default: 64)"
    )
    parser.add_argument("--limit", type=int, help="evaluate only the first N entries of each benchmark")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, mps")
    parser.add_argument(
        "--dtype",
        default="auto",
        choices=("auto", "float32", "bfloat16", "float16"),
        help="weights' dtype (default auto: bfloat16 on a GPU that supports it, else float32)",
    )
    parser.add_argument("--student-template", help='prompt template (default "<image>\\n{question}")')
    parser.add_argument("--system", help="system message (default: none)")
    parser.add_argument("--judge-url", help="OpenAI-compatible base URL of a judge model (default: no judge)")
    parser.add_argument("--judge-model", help="model name to send to the judge endpoint")
    parser.add_argument(
        "--judge-api-key-env",
        default="OPENAI_API_KEY",
        help="environment variable holding the judge's API key",
    )
    parser.add_argument("--no-plot", action="store_true", help="do not draw the accuracy-vs-step plot")
    parser.add_argument(
        "--zoom-gap",
        action="store_true",
        help="answer each question on the full image and again with the evidence crop added; "
        "report both and their paired difference (benchmarks with boxes or crops)",
    )


def _per_data(values: list[str] | None, n: int, flag: str) -> list[str | None]:
    if not values:
        return [None] * n
    if len(values) == 1 and flag == "--format":
        return values * n
    if len(values) != n:
        raise CommandError(f"give {flag} once per --data ({n}), got {len(values)}")
    return list(values)


def _labels(models: list[str]) -> list[str]:
    """Short unique labels (folder or repo names) for the checkpoints, safe as folder names."""
    from vzero_train.evaluate.report import safe_name

    labels: list[str] = []
    for model in models:
        base = safe_name(Path(model.rstrip("/")).name)
        label, k = base, 2
        while label in labels:
            label, k = f"{base}_{k}", k + 1
        labels.append(label)
    return labels


def _model_sources(models: list[str]) -> list[Any]:
    """Resolve every --model up front, so a missing folder fails before any benchmark is read."""
    from vzero_core.model_source import resolve_model_source

    try:
        return [resolve_model_source(m) for m in models]
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    from vzero_core.stage_times import StageTimes
    from vzero_core.vlm.prompts import DEFAULT_STUDENT_TEMPLATE, PromptTemplates, TemplateError
    from vzero_data.benchmarks import open_benchmark
    from vzero_data.benchmarks.items import EvalDataError
    from vzero_train.evaluate.report import (
        build_report,
        checkpoint_entry,
        comparison_table,
        step_from_name,
        write_report,
    )

    for flag, value in (("--batch-size", args.batch_size), ("--max-new-tokens", args.max_new_tokens)):
        if value < 1:
            raise CommandError(f"{flag} must be at least 1, got {value}")
    if args.limit is not None and args.limit < 1:
        raise CommandError(f"--limit must be at least 1, got {args.limit}")
    if args.step and len(args.step) != len(args.model):
        raise CommandError(f"give --step once per --model ({len(args.model)}), got {len(args.step)}")
    if bool(args.judge_url) != bool(args.judge_model):
        raise CommandError("--judge-url and --judge-model go together")
    try:
        templates = PromptTemplates(
            student=args.student_template or DEFAULT_STUDENT_TEMPLATE, system=args.system
        )
    except TemplateError as exc:
        raise CommandError(str(exc)) from exc

    formats = _per_data(args.format, len(args.data), "--format")
    names = _per_data(args.name, len(args.data), "--name")
    try:
        benchmarks = [
            open_benchmark(src, fmt, name=name, image_root=args.image_root)
            for src, fmt, name in zip(args.data, formats, names, strict=True)
        ]
    except EvalDataError as exc:
        raise CommandError(str(exc)) from exc
    if len({b.name for b in benchmarks}) != len(benchmarks):
        raise CommandError(
            f"benchmark names collide ({[b.name for b in benchmarks]}); pass --name per --data"
        )

    judge = None
    if args.judge_url:
        from vzero_train.evaluate.judge import OpenAICompatibleJudge

        judge = OpenAICompatibleJudge(args.judge_url, args.judge_model, api_key_env=args.judge_api_key_env)

    settings = {
        "batch_size": args.batch_size,
        "max_new_tokens": args.max_new_tokens,
        "decoding": "greedy",
        "limit": args.limit,
        "confidence": 0.95,
        "interval": "wilson",
        "student_template": templates.student,
        "system": templates.system,
        "judge": {"url": args.judge_url, "model": args.judge_model} if judge else None,
        "device": args.device,
        "dtype": args.dtype,
    }
    bench_info = [{"name": b.name, "format": b.format, "src": str(b.src)} for b in benchmarks]
    if args.zoom_gap:
        return _run_zoom_gap(args, benchmarks, templates, judge, settings)
    sources = _model_sources(args.model)
    # a training checkpoint is named by its step_N folder, not by its model/ subfolder
    names = [str(src.checkpoint) if src.checkpoint else m for m, src in zip(args.model, sources, strict=True)]
    steps = args.step or [
        src.step if src.step is not None else step_from_name(n) for src, n in zip(sources, names, strict=True)
    ]
    checkpoints = []
    paths: dict[str, Path] = {}
    times = StageTimes()
    for model, label, step in zip(args.model, _labels(names), steps, strict=True):
        results = _evaluate_checkpoint(args, model, label, benchmarks, templates, judge, times)
        checkpoints.append(checkpoint_entry(label, model, results, step=step))
        report = build_report(checkpoints, settings=settings, benchmarks=bench_info)
        # Rewritten after every checkpoint: an interrupted comparison keeps what finished.
        with times.stage("reports"):
            paths = write_report(report, args.out, plot=not args.no_plot)
    print(comparison_table(report))
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    print(times.format())
    return 0


def _evaluate_checkpoint(
    args: argparse.Namespace,
    model: str,
    label: str,
    benchmarks: list[Benchmark],
    templates: PromptTemplates,
    judge: Judge | None,
    times: StageTimes,
) -> dict[str, EvalResult]:
    """Load one checkpoint, run every benchmark through it, streaming predictions to JSONL; the
    time each takes goes into ``times`` (loading, and each benchmark by name, summed over models)."""
    from vzero_data.benchmarks.items import EvalDataError
    from vzero_train.evaluate.report import prediction_writer, safe_name
    from vzero_train.evaluate.runner import evaluate_model

    with times.stage("load models"):
        vlm = _load_model(args, model)
    logger.info("evaluating %s (%s) on %s", label, model, ", ".join(b.name for b in benchmarks))
    results = {}
    pred_dir = args.out / "predictions" / label
    pred_dir.mkdir(parents=True, exist_ok=True)
    try:
        for bench in benchmarks:
            items = bench.items()
            if args.limit is not None:
                items = islice(items, args.limit)
            with (
                prediction_writer(pred_dir / f"{safe_name(bench.name)}.jsonl") as write,
                times.stage(f"answer {bench.name}", show=False),
            ):
                try:
                    results[bench.name] = evaluate_model(
                        vlm,
                        items,
                        batch_size=args.batch_size,
                        max_new_tokens=args.max_new_tokens,
                        templates=templates,
                        judge=judge,
                        name=bench.name,
                        progress=not args.no_progress,
                        on_result=write,
                    )
                except EvalDataError as exc:
                    raise CommandError(str(exc)) from exc
    finally:
        del vlm
        gc.collect()
        _empty_cuda_cache()
    return results


def _load_model(args: argparse.Namespace, model: str) -> Any:
    """The checkpoint loaded for evaluation; a missing or unloadable one is a one-line error."""
    from vzero_core.vlm.models import load_vlm

    try:
        return load_vlm(model, device=args.device, dtype=args.dtype)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from exc
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot load model {model!r}: {exc}") from exc


def _run_zoom_gap(
    args: argparse.Namespace,
    benchmarks: list[Benchmark],
    templates: PromptTemplates,
    judge: Judge | None,
    settings: dict[str, Any],
) -> int:
    """Every checkpoint on every benchmark, full image and with the crop; OUT/zoom_gap.{json,md}."""
    import json

    from vzero_core.atomic_text import write_text_atomic
    from vzero_data.benchmarks.items import EvalDataError
    from vzero_train.evaluate.zoom_gap import evaluate_zoom_gap, zoom_gap_table

    names = [
        str(src.checkpoint) if src.checkpoint else m
        for m, src in zip(args.model, _model_sources(args.model), strict=True)
    ]
    summaries = []
    for model, label in zip(args.model, _labels(names), strict=True):
        vlm = _load_model(args, model)
        try:
            for bench in benchmarks:
                items = bench.items()
                if args.limit is not None:
                    items = islice(items, args.limit)
                try:
                    result = evaluate_zoom_gap(
                        vlm,
                        items,
                        batch_size=args.batch_size,
                        max_new_tokens=args.max_new_tokens,
                        templates=templates,
                        judge=judge,
                        name=bench.name,
                        progress=not args.no_progress,
                    )
                except EvalDataError as exc:
                    raise CommandError(str(exc)) from exc
                summaries.append({"checkpoint": label, "model": model, **result.summary()})
        finally:
            del vlm
            gc.collect()
            _empty_cuda_cache()
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"settings": {**settings, "teacher_template": templates.teacher}, "zoom_gap": summaries}
    write_text_atomic(args.out / "zoom_gap.json", json.dumps(report, indent=2, default=str) + "\n")
    table = zoom_gap_table(summaries)
    write_text_atomic(args.out / "zoom_gap.md", "# Zooming gap\n\n" + table + "\n")
    print(table)
    print(f"zoom gap: {args.out / 'zoom_gap.json'}, {args.out / 'zoom_gap.md'}")
    return 0


def _empty_cuda_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()
