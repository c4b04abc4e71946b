"""``vzero-data``: the curation command line.

Each subcommand lives in its own module under :mod:`vzero_data.commands` and exposes ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Those modules import only the standard library at
top level, so ``vzero-data --help`` and ``vzero-data stats`` start fast; heavy libraries load inside
``run``.
"""

from __future__ import annotations

from vzero_core.cli_support import build_main

COMMANDS = {
    "synth": "vzero_data.commands.synth",
    "demo": "vzero_data.commands.demo",
    "ingest": "vzero_data.commands.ingest",
    "stats": "vzero_data.commands.stats",
    "query": "vzero_data.commands.query",
    "catalog": "vzero_data.commands.catalog",
    "verify": "vzero_data.commands.verify",
    "fingerprint": "vzero_data.commands.fingerprint",
    "dedup": "vzero_data.commands.dedup",
    "contamination": "vzero_data.commands.contamination",
    "compact": "vzero_data.commands.compact",
    "sync": "vzero_data.commands.sync",
    "export": "vzero_data.commands.export",
    "eval-grounding": "vzero_data.commands.eval_grounding",
    "preview": "vzero_data.commands.preview",
    "curate": "vzero_data.commands.curate",
    "audit": "vzero_data.commands.audit",
    "recipes": "vzero_data.commands.recipes",
}

DESCRIPTION = (
    "vzero-data: curate fine-grained visual-reasoning data for V-Zero training. "
    "Synthesize or ingest samples, localize the question-relevant region, build positive crops "
    "and negative views, and store them as Parquet shards with a DuckDB catalog."
)

main = build_main("vzero-data", DESCRIPTION, COMMANDS)

if __name__ == "__main__":
    raise SystemExit(main())
