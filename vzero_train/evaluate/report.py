"""The evaluation report: ``results.json`` (everything, machine-readable) and ``report.md``.

The Markdown is rendered from the JSON alone, so a report can be regenerated (or several runs
compared) from saved ``results.json`` files. Accuracies carry 95% Wilson score intervals; the
average across benchmarks is the unweighted mean of their accuracies, as papers report it, taken
only over the benchmarks every compared checkpoint has a score on (``average_over``), so checkpoints
evaluated on different sets (runs merged by ``eval-report``) are never averaged over different sets.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from vzero_core.atomic_text import write_text_atomic
from vzero_train.evaluate.runner import EvalResult
from vzero_train.evaluate.scoring import ItemResult

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
RESULTS_NAME = "results.json"
MARKDOWN_NAME = "report.md"
PLOT_NAME = "accuracy_vs_step.png"
EXAMPLES_SHOWN = 5
_STEP = re.compile(r"(?:global[_-]?)?(?:step|checkpoint|ckpt)[_-]?(\d+)$", re.I)


def step_from_name(name_or_path: str | os.PathLike[str]) -> int | None:
    """The training step in a checkpoint name like ``checkpoint-60``, ``global_step_60`` or ``step60``."""
    match = _STEP.search(Path(str(name_or_path).rstrip("/")).name)
    return int(match.group(1)) if match else None


def environment() -> dict[str, Any]:
    versions = {}
    for name in ("vzero", "torch", "transformers"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"python": platform.python_version(), "packages": versions}


def benchmark_entry(result: EvalResult, confidence: float) -> dict[str, Any]:
    summary = result.summary(confidence)
    unparsed = [r for r in result.results if not r.parsed]
    return {
        **summary.to_dict(),
        "skipped": [{"item_id": s.item_id, "reason": s.reason} for s in result.skipped],
        "unparseable_examples": [
            {"item_id": r.item_id, "response": r.response} for r in unparsed[:EXAMPLES_SHOWN]
        ],
    }


def checkpoint_entry(
    label: str,
    model: str,
    results: Mapping[str, EvalResult],
    *,
    step: int | None = None,
    confidence: float = 0.95,
) -> dict[str, Any]:
    """One checkpoint's scores on every benchmark, plus their mean accuracy."""
    benchmarks = {name: benchmark_entry(r, confidence) for name, r in results.items()}
    accuracies = [b["overall"]["accuracy"] for b in benchmarks.values()]
    average = sum(accuracies) / len(accuracies) if accuracies and None not in accuracies else None
    return {"label": label, "model": model, "step": step, "benchmarks": benchmarks, "average": average}


def common_benchmarks(checkpoints: Sequence[Mapping[str, Any]]) -> list[str]:
    """The benchmarks every checkpoint has an accuracy on, in first-seen order."""
    names: dict[str, None] = {}
    for ckpt in checkpoints:
        names.update(dict.fromkeys(ckpt["benchmarks"]))
    return [
        name
        for name in names
        if all(
            name in c["benchmarks"] and c["benchmarks"][name]["overall"]["accuracy"] is not None
            for c in checkpoints
        )
    ]


def with_common_average(checkpoints: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Copies of ``checkpoints`` whose ``average`` is the mean over :func:`common_benchmarks`."""
    common = common_benchmarks(checkpoints)
    out = []
    for ckpt in checkpoints:
        accs = [ckpt["benchmarks"][name]["overall"]["accuracy"] for name in common]
        out.append({**ckpt, "average": sum(accs) / len(accs) if accs else None})
    return out, common


def by_step(checkpoints: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Checkpoints in training order: by step, those without a known step after them in the order
    given (so merged runs read top to bottom as training went, whatever the argument order)."""
    return sorted(checkpoints, key=lambda c: (c["step"] is None, c["step"] or 0))


def build_report(
    checkpoints: Sequence[dict[str, Any]],
    *,
    settings: Mapping[str, Any],
    benchmarks: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    checkpoints, common = with_common_average(by_step(checkpoints))
    return {
        "format_version": FORMAT_VERSION,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": environment(),
        "settings": dict(settings),
        "benchmarks": [dict(b) for b in benchmarks],
        "checkpoints": checkpoints,
        "average_over": common,
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}"


def _cell(score: Mapping[str, Any]) -> str:
    if score["accuracy"] is None:
        return "n/a"
    return f"{_pct(score['accuracy'])} [{_pct(score['ci_low'])}, {_pct(score['ci_high'])}]"


def _benchmark_names(report: Mapping[str, Any]) -> list[str]:
    names: dict[str, None] = {}
    for ckpt in report["checkpoints"]:
        names.update(dict.fromkeys(ckpt["benchmarks"]))
    return list(names)


def comparison_table(report: Mapping[str, Any]) -> str:
    """Markdown table: one row per checkpoint, accuracy % [95% CI] per benchmark, and the mean."""
    names = _benchmark_names(report)
    common = report.get("average_over", names)
    label = "average" if list(common) == names else f"average ({', '.join(common) or 'no common benchmark'})"
    lines = [
        "| checkpoint | step | " + " | ".join(names) + f" | {label} |",
        "|---|---:|" + "---:|" * len(names) + "---:|",
    ]
    for ckpt in report["checkpoints"]:
        cells = [_cell(ckpt["benchmarks"][n]["overall"]) if n in ckpt["benchmarks"] else "" for n in names]
        step = "" if ckpt["step"] is None else str(ckpt["step"])
        lines.append(f"| {ckpt['label']} | {step} | " + " | ".join(cells) + f" | {_pct(ckpt['average'])} |")
    return "\n".join(lines)


def _category_table(entry: Mapping[str, Any]) -> list[str]:
    lines = [
        "| category | n | correct | accuracy % | 95% CI | unparseable | judged |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    rows = [("**all**", entry["overall"]), *entry["categories"].items()]
    for name, s in rows:
        ci = "n/a" if s["ci_low"] is None else f"[{_pct(s['ci_low'])}, {_pct(s['ci_high'])}]"
        lines.append(
            f"| {name} | {s['n']} | {s['correct']} | {_pct(s['accuracy'])} | {ci} | {s['unparseable']} | {s['judged']} |"
        )
    return lines


def _one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def render_markdown(report: Mapping[str, Any]) -> str:
    """The whole report as Markdown, from the dict :func:`build_report` makes."""
    settings = report["settings"]
    env = report["environment"]
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items() if v)
    out = [
        "# Evaluation report",
        "",
        f"Created {report['created_at']} (Python {env['python']}; {packages}).",
        f"Full image, single pass, greedy decoding, at most {settings.get('max_new_tokens')} new tokens, "
        f"batch size {settings.get('batch_size')}. Intervals: {round(100 * settings.get('confidence', 0.95))}% "
        "Wilson score intervals. Unparseable responses count as wrong and are listed below.",
        *(
            [f"**These results merge runs that differ in: {', '.join(settings['differs'])}.**"]
            if settings.get("differs")
            else []
        ),
        "",
        "| benchmark | format | source |",
        "|---|---|---|",
        *(f"| {b['name']} | {b['format']} | `{b['src']}` |" for b in report["benchmarks"]),
        "",
        "## Accuracy % [95% CI] by checkpoint",
        "",
        comparison_table(report),
    ]
    for ckpt in report["checkpoints"]:
        step = "" if ckpt["step"] is None else f", step {ckpt['step']}"
        out += ["", f"## {ckpt['label']}", "", f"Model `{ckpt['model']}`{step}."]
        for name, entry in ckpt["benchmarks"].items():
            out += ["", f"### {name}", ""]
            if entry.get("protocols"):
                out += [f"Protocol: {'; '.join(entry['protocols'])}.", ""]
            out += _category_table(entry)
            if entry.get("cycle"):
                cycle = entry["cycle"]
                out += [
                    "",
                    f"Cycle score (a base question counts only when all its option rotations are answered "
                    f"correctly): {_cell(cycle['strict'])} over {cycle['strict']['n']} base questions; "
                    f"mean over the {cycle['rotations']} rotations of each rotation's accuracy (the number "
                    f"HR-Bench's own scripts report): {_pct(cycle['rotation_mean'])}.",
                ]
            if entry["skipped"]:
                reasons = Counter(s["reason"] for s in entry["skipped"])
                out += ["", f"Skipped {len(entry['skipped'])} entries:"]
                out += [f"- {count} x {_one_line(reason)}" for reason, count in reasons.most_common(10)]
            n_unparsed = entry["overall"]["unparseable"]
            if n_unparsed:
                shown = entry["unparseable_examples"]
                out += ["", f"Unparseable responses ({len(shown)} of {n_unparsed} shown):"]
                out += [
                    f"- `{e['item_id']}`: {json.dumps(_one_line(e['response']), ensure_ascii=False)}"
                    for e in shown
                ]
    return "\n".join(out) + "\n"


def safe_name(name: str) -> str:
    """``name`` usable as a file or folder name: other characters than word, dot and dash become ``_``."""
    return re.sub(r"[^\w.-]+", "_", name) or "_"


@contextlib.contextmanager
def prediction_writer(path: str | os.PathLike[str]) -> Iterator[Callable[[ItemResult], None]]:
    """An ``on_result`` callback for ``evaluate_model`` writing each scored item to the JSONL file
    ``path`` as it is produced (flushed, so an interrupted pass keeps what it scored)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:

        def write(result: ItemResult) -> None:
            fh.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
            fh.flush()

        yield write


def write_report(
    report: Mapping[str, Any], out_dir: str | os.PathLike[str], *, plot: bool = True
) -> dict[str, Path]:
    """Write ``results.json``, ``report.md`` and, for several checkpoints, the accuracy-vs-step PNG."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / RESULTS_NAME, "markdown": out / MARKDOWN_NAME}
    write_text_atomic(paths["json"], json.dumps(report, indent=2, sort_keys=False) + "\n")
    write_text_atomic(paths["markdown"], render_markdown(report))
    if plot and len(report["checkpoints"]) >= 2:
        from vzero_train.evaluate.plot import PlotUnavailableError, plot_accuracy_vs_step

        try:
            paths["plot"] = plot_accuracy_vs_step(report, out / PLOT_NAME)
        except PlotUnavailableError as exc:
            logger.warning("no accuracy plot: %s", exc)
    return paths


def merge_reports(reports: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One report holding the checkpoints of several (e.g. checkpoints evaluated in separate jobs).

    Benchmarks are united by name; settings come from the first report, and any setting on which
    the reports differ is listed under ``settings["differs"]`` so a comparison never hides it.
    """
    if not reports:
        raise ValueError("no reports to merge")
    benchmarks: dict[str, Any] = {}
    checkpoints: list[dict[str, Any]] = []
    for report in reports:
        benchmarks.update({b["name"]: b for b in report["benchmarks"] if b["name"] not in benchmarks})
        checkpoints.extend(report["checkpoints"])
    settings = dict(reports[0]["settings"])
    differs = sorted({k for r in reports[1:] for k, v in r["settings"].items() if settings.get(k) != v})
    if differs:
        settings["differs"] = differs
    return build_report(checkpoints, settings=settings, benchmarks=list(benchmarks.values()))


def load_report(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a ``results.json`` (or the folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / RESULTS_NAME
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable evaluation results file ({exc})") from exc
    version = report.get("format_version") if isinstance(report, dict) else None
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path}: not vzero evaluation results (format {version!r}, expected {FORMAT_VERSION})"
        )
    return report
