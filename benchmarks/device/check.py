"""Measure on one GPU what the CPU cannot: memory against the plan, paper-scale step time, grounding
and curation throughput at scale, attention kernels and the bf16 matrix-product rate.

One entry point for a GPU machine with no network (``run.sh`` installs the carried wheels first;
docs/gpu.md says how to call it). The parts run in order, each in its own try block under its own
time cap inside ``--budget-s``; each writes what it measured to ``OUT/device_check.json`` and
``OUT/device_check.md`` as it goes, so a part that fails or runs out of time leaves the others' and
its own earlier figures. ``--cpu-smoke`` runs every part at tiny sizes on the CPU (CI runs it, so
the script cannot rot between GPU runs); its figures mean nothing.

  bash benchmarks/device/run.sh --budget-s 420                     # on the GPU machine
  python benchmarks/device/check.py --cpu-smoke --out smoke_out      # anywhere
  python benchmarks/device/check.py --out out --parts opd,grounding  # rerun some parts
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
# run as a script, this folder is first on the path, where its modules would shadow any top-level
# module of the same name: the repository root takes its place
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from benchmarks.device import budget as budget_mod  # noqa: E402
from benchmarks.device import report as report_mod  # noqa: E402

MIN_START_S = 15.0  # a part does not start with less of the run's budget left


@dataclass(frozen=True)
class Sizes:
    """What each part runs: the GPU sizes by default, :meth:`smoke` for the CPU smoke run."""

    caps: dict[str, float] = field(
        default_factory=lambda: {
            "environment": 30,
            "sanity": 45,
            "plan": 130,
            "opd": 150,
            "grounding": 80,
            "curation": 110,
        }
    )
    matmul_n: int = 8192
    attention_shape: tuple[int, int, int, int] = (4, 16, 4096, 128)
    attention_model_hidden: int = 256
    attention_tokens: int = 256
    plan_args: tuple[str, ...] = ()  # plan_check's own defaults: 1280x960 images, 512 new tokens, 4 prompts
    shrink_student: int | None = None
    shrink_teacher: int | None = None
    opd_prompts: int = 4
    opd_new_tokens: int = 256
    opd_image: int = 1024
    opd_steps: int = 2
    opd_overrides: dict[str, Any] = field(default_factory=dict)
    detector_size: str = "full"
    grounding_images: tuple[tuple[int, int], ...] = ((1024, 32), (2048, 8))  # (px, images per measurement)
    grounding_batches: tuple[int, ...] = (1, 4, 8, 16)
    grounding_min_s: float = 8.0
    scenes: int = 96
    scene_size: int = 1024
    workers: tuple[int, ...] = (1, 4, 8, 16)
    curation_min_s: float = 10.0

    @classmethod
    def smoke(cls) -> Sizes:
        return cls(
            caps=dict.fromkeys(PARTS, 120.0),
            matmul_n=128,
            attention_shape=(1, 2, 64, 16),
            attention_model_hidden=64,
            attention_tokens=16,
            plan_args=(
                "--image-size",
                "64x64",
                "--max-new-tokens",
                "4",
                "--prompts",
                "1",
                "--text-tokens",
                "8",
            ),
            shrink_student=64,
            shrink_teacher=128,
            opd_prompts=2,
            opd_new_tokens=4,
            opd_image=128,
            opd_steps=1,
            opd_overrides={"rollout.group_size": 2, "micro_batch_size": 2, "replay_batch_size": 4},
            detector_size="tiny",
            grounding_images=((256, 2),),
            grounding_batches=(1, 2),
            grounding_min_s=0.0,
            scenes=4,
            scene_size=256,
            workers=(1, 2),
            curation_min_s=0.0,
        )


@dataclass
class Context:
    """What every part gets: the device, the sizes, a scratch folder, the budget, the report, and
    figures one part leaves for another (the matrix-product rate)."""

    device: str
    sizes: Sizes
    work: Path
    budget: budget_mod.Budget
    report: report_mod.Report
    strict: bool
    shared: dict[str, Any] = field(default_factory=dict)


def _part(module: str) -> Callable[[Context, report_mod.Part], None]:
    def run(ctx: Context, part: report_mod.Part) -> None:
        import importlib

        importlib.import_module(f"benchmarks.device.{module}").run(ctx, part)

    return run


PARTS: dict[str, Callable[[Context, report_mod.Part], None]] = {
    name: _part(name) for name in ("environment", "sanity", "plan", "opd", "grounding", "curation")
}


def commit(given: str | None) -> str:
    """The code's commit: ``--commit``, else git's, else the one ``wheels.py download`` recorded
    beside the wheels (the GPU machine's copy of the tree has no git)."""
    from benchmarks.device.wheels import WHEEL_DIR, git_commit

    if given:
        return given
    found = git_commit()
    stamp = WHEEL_DIR / "source.json"
    if found == "unknown" and stamp.is_file():
        return f"{json.loads(stamp.read_text())['commit']} (recorded when the wheels were downloaded)"
    return found


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="folder for device_check.json and .md")
    parser.add_argument(
        "--budget-s", type=float, default=None, help="seconds for the whole run (420; smoke 300)"
    )
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"comma-separated, in order (default {','.join(PARTS)})"
    )
    parser.add_argument("--cpu-smoke", action="store_true", help="every part at tiny sizes on the CPU")
    parser.add_argument("--commit", help="the code's commit, where the copy has no git")
    parser.add_argument(
        "--work", type=Path, help="scratch folder (default: a temporary one, removed at the end)"
    )
    args = parser.parse_args(argv)
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown parts {', '.join(unknown)}; known: {', '.join(PARTS)}")
    if args.budget_s is None:
        args.budget_s = 300.0 if args.cpu_smoke else 420.0
    return args


def run_part(name: str, ctx: Context) -> str:
    """Run one part under its cap; record its status, time and error. Returns the status."""
    part = ctx.report.part(name)
    t0 = time.perf_counter()
    try:
        if ctx.budget.remaining() < MIN_START_S:
            raise budget_mod.OutOfTime(f"not started: {ctx.budget.remaining():.0f} s of the budget left")
        with ctx.budget.capped(ctx.sizes.caps[name]):
            PARTS[name](ctx, part)
        part.entry["status"] = "ok"
    except budget_mod.OutOfTime as exc:
        part.entry.update(status="stopped", error=str(exc))
    except Exception as exc:  # one part's failure is recorded; the next part still runs
        part.entry.update(status="failed", error="".join(traceback.format_exception(exc)[-12:]).strip())
    finally:
        part.entry["seconds"] = time.perf_counter() - t0
        _release_memory(ctx.device)
        part.save()
    print(f"\n{report_mod.part_markdown(name, part.entry)}", flush=True)  # the figures reach the log too
    return part.entry["status"]


def _release_memory(device: str) -> None:
    gc.collect()
    if device == "cuda":
        import torch

        torch.cuda.empty_cache()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    budget = budget_mod.Budget(args.budget_s)
    import torch

    device = "cpu" if args.cpu_smoke else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        print("error: no CUDA GPU here; run with --cpu-smoke for the CPU smoke run", file=sys.stderr)
        return 2
    header = {
        "mode": "cpu-smoke" if args.cpu_smoke else "gpu",
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": torch.cuda.get_device_name(0) if device == "cuda" else "CPU",
        "commit": commit(args.commit),
        "budget_s": args.budget_s,
        "argv": " ".join(sys.argv[1:] if argv is None else argv),
    }
    report = report_mod.Report(args.out, header)
    report.save()
    with contextlib.ExitStack() as stack:
        work = args.work or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vzero-device-")))
        work.mkdir(parents=True, exist_ok=True)
        sizes = Sizes.smoke() if args.cpu_smoke else Sizes()
        ctx = Context(device, sizes, work, budget, report, strict=not args.cpu_smoke)
        statuses = {name: run_part(name, ctx) for name in args.parts}
    report.data["total_s"] = args.budget_s - budget.remaining()
    report.save()
    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'part':<12} {'status':<8} seconds")
    for name, status in statuses.items():
        print(f"{name:<12} {status:<8} {report.data['parts'][name]['seconds']:.0f}")
    print(f"wrote {args.out / report_mod.JSON_NAME} and {args.out / report_mod.MD_NAME}")
    return 0 if all(s == "ok" for s in statuses.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
