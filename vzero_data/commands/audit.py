"""Audit a store's views with a teacher: how much each view changes the teacher's answer.

For every sample, the teacher's log-prob of a reference answer (the label, or with --mode label_free
the teacher's own answer with the positive crop) with the full image plus the positive crop, plus
each negative view, the full image alone, the crop alone and the question alone. Rows go to the
store's `audits` table (query it with `vzero-data query`), keyed by the teacher's identity and the
audit's config hash: rerunning resumes, audits by other teachers coexist. Flags name negatives that
keep the evidence, questions the text alone answers, crops that likely miss it, and samples that
give the gate no signal; --reject-negatives records failing negatives as rejects, which
`export --audited-by` and training with `data.audited_by` then skip. --report DIR writes
report.md, report.json and gaps.png.

examples:
  vzero-data audit store --teacher runs/teacher/checkpoints/step_100 --report audit_report
  vzero-data audit store --teacher Qwen/Qwen3-VL-8B-Instruct --device cuda --batch-size 16 --answer letter
  vzero-data audit store --teacher T --strategies downsampled_distractor,masked --mode label_free
  vzero-data audit store --teacher T --shard 0/4 --set execution.device=cuda:0
  vzero-data audit store --report-only --teacher T --report audit_report
"""

from __future__ import annotations

import argparse

from vzero_core.cli_support import add_set_option

HELP = "score every view with a teacher: evidence gaps, gate weights, flags (audits table)"

# flag -> (audit field it sets, argparse keyword arguments)
FIELD_FLAGS = {
    "teacher": ("teacher", {"help": "teacher model: a folder, a training checkpoint or a hub id"}),
    "strategies": (
        "strategies",
        {"help": "negative strategies to score, comma-separated (default: all stored)"},
    ),
    "positive_strategy": (
        "positive_strategy",
        {"help": "positive view strategy (default: the store's first)"},
    ),
    "config_hash": ("config_hash", {"help": "curation config whose views are scored (needed with several)"}),
    "mode": (
        "mode",
        {"choices": ("auto", "labelled", "label_free"), "help": "reference answer (default: auto)"},
    ),
    "answer": (
        "answer",
        {"choices": ("option", "letter"), "help": "multiple choice: score option texts or letters"},
    ),
    "min_gap": (
        "thresholds.min_gap",
        {"type": float, "help": "gap (nats) a negative must open (default ln 2)"},
    ),
    "alpha": ("gate.alpha", {"type": float, "help": "the trainer's gate alpha (default 0.5)"}),
    "limit": ("execution.limit", {"type": int, "help": "audit only the first N samples"}),
    "batch_size": ("execution.batch_size", {"type": int, "help": "samples scored together (default 8)"}),
    "micro_batch_size": (
        "execution.micro_batch_size",
        {"type": int, "help": "rows per forward (default 16)"},
    ),
    "device": ("execution.device", {"help": "cpu, cuda, cuda:N, mps (default: auto)"}),
    "dtype": ("execution.dtype", {"help": "float32, bfloat16, float16 (default: auto)"}),
    "workers": (
        "execution.workers",
        {"type": int, "help": "processes with a teacher each (default 0: this one)"},
    ),
    "executor": ("execution.executor", {"choices": ("local", "ray"), "help": "where the teacher runs"}),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("store", help="store directory")
    for flag, (_, kwargs) in FIELD_FLAGS.items():
        parser.add_argument("--" + flag.replace("_", "-"), dest=flag, **kwargs)
    parser.add_argument("--recipe", help="read the audit: section of this recipe (flags override it)")
    parser.add_argument("--shard", default="0/1", help="audit only shard i of N, written i/N (default 0/1)")
    parser.add_argument("--reject-negatives", action="store_true", help="record flagged negatives as rejects")
    parser.add_argument(
        "--reject-no-gate-signal", action="store_true", help="record samples without gate signal as rejects"
    )
    add_set_option(
        parser,
        "override an audit field, e.g. --set thresholds.min_score_std=0.02 (repeatable)",
        dest="overrides",
    )
    parser.add_argument("--report", metavar="DIR", help="write report.md, report.json and gaps.png here")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="score nothing: summarize the audit named by --teacher (id, name, path or audit hash)",
    )
    parser.add_argument("--json", action="store_true", help="print the outcome and summary as JSON")


def audit_overrides(args: argparse.Namespace) -> list:
    """The audit fields the flags set, as ``(dotted key, value)`` pairs, then the ``--set`` strings."""
    out: list = []
    for flag, (key, _) in FIELD_FLAGS.items():
        value = getattr(args, flag)
        if value is None:
            continue
        if flag == "strategies":
            value = [s.strip() for s in value.split(",") if s.strip()]
        out.append((key, value))
    if args.reject_negatives:
        out.append(("reject.negatives", True))
    if args.reject_no_gate_signal:
        out.append(("reject.no_gate_signal", True))
    if args.no_progress or args.quiet:
        out.append(("execution.progress", False))
    return out + list(args.overrides)


def recipe_section(path: str | None) -> tuple[dict, str]:
    """The ``audit:`` mapping of ``--recipe`` (empty without one) and where it came from."""
    if path is None:
        return {}, "command line"
    import yaml

    from vzero_core.cli_support import CommandError
    from vzero_core.recipes import UnknownRecipe, resolve_recipe

    try:
        resolved = resolve_recipe(path)
        doc = yaml.safe_load(resolved.read_text(encoding="utf-8"))
    except (UnknownRecipe, OSError, yaml.YAMLError) as exc:
        raise CommandError(f"{path}: cannot read the recipe ({exc})") from None
    section = doc.get("audit") if isinstance(doc, dict) else None
    if not isinstance(section, dict):
        raise CommandError(f"{resolved.name}: no audit: section")
    return section, resolved.name


def run(args: argparse.Namespace) -> int:
    from vzero_core.cli_support import CommandError
    from vzero_core.recipe_base import RecipeError
    from vzero_data.pipeline.sharding import ShardSpecError, parse_shard
    from vzero_data.store import open_store
    from vzero_data.store.layout import StoreError

    if args.report_only:
        try:
            store = open_store(args.store)
            report_audit(store, args.teacher, None, args.report, as_json=args.json)
        except StoreError as exc:
            raise CommandError(str(exc)) from None
        return 0
    section, where = recipe_section(args.recipe)
    try:
        shard = parse_shard(args.shard)
        from vzero_data.audit.config import load_audit_config

        config = load_audit_config(section, audit_overrides(args), where)
    except (RecipeError, ShardSpecError) as exc:
        raise CommandError(str(exc)) from None
    from vzero_data.audit.runner import run_audit

    try:
        outcome = run_audit(args.store, config, shard=shard)
        store = open_store(args.store)
    except (StoreError, RecipeError) as exc:
        raise CommandError(str(exc)) from None
    if not args.json:
        print(outcome.format())
    try:
        report_audit(
            store, outcome.teacher.id, outcome.audit_hash, args.report, as_json=args.json, outcome=outcome
        )
    except StoreError as exc:  # nothing audited (every sample skipped): the outcome said why
        if not args.json:
            print(f"no summary: {exc}")
    return 0


def report_audit(store, teacher, audit_hash, report_dir, *, as_json: bool, outcome=None) -> None:
    """Print the audit's per-strategy table (or JSON) and write the report when asked."""
    import json

    from vzero_data.audit.report import strategy_table, write_report
    from vzero_data.audit.summary import gaps_by_strategy, resolve_audit, summarize

    teacher_id, ahash = resolve_audit(store, teacher, audit_hash)
    summary = summarize(store, teacher_id, ahash)
    threshold = (summary.get("settings") or {}).get("thresholds", {}).get("min_gap")
    paths = {}
    if report_dir:
        paths = write_report(
            summary, gaps_by_strategy(store, teacher_id, ahash), report_dir, threshold=threshold
        )
    if as_json:
        out = {"summary": summary, "report": {k: str(v) for k, v in paths.items()}}
        if outcome is not None:
            out["outcome"] = outcome.as_dict()
        print(json.dumps(out, indent=2, default=str))
        return
    acc = summary["contexts"]
    print(
        f"{summary['samples']} samples audited by {teacher_id} (audit {ahash}); accuracy with the crop "
        f"{_pct(acc['positive']['rate'])}, full image alone {_pct(acc['full_image']['rate'])}, "
        f"crop alone {_pct(acc['crop_only']['rate'])}, question alone {_pct(acc['text_only']['rate'])} "
        f"(chance {_pct(summary['chance'])})"
    )
    print("\n".join(strategy_table(summary)))
    flags = ", ".join(f"{k}: {v}" for k, v in summary["flags"].items())
    print(f"flags: {flags}")
    for name, path in paths.items():
        print(f"report ({name}): {path}")


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"
