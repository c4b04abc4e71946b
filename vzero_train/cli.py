"""``vzero-train``: the training and evaluation command line.

Subcommands live in :mod:`vzero_train.commands`, one module each (``HELP``, ``add_arguments``,
``run``); torch and transformers load inside ``run`` only.
"""

from __future__ import annotations

from vzero_core.cli_support import build_main

COMMANDS = {
    "env": "vzero_train.commands.env",
    "train": "vzero_train.commands.train",
    "launch": "vzero_train.commands.launch",
    "sft": "vzero_train.commands.sft",
    "demo": "vzero_train.commands.demo",
    "eval": "vzero_train.commands.eval",
    "eval-report": "vzero_train.commands.eval_report",
    "sandbox": "vzero_train.commands.sandbox",
    "plan": "vzero_train.commands.plan",
}

DESCRIPTION = (
    "vzero-train: train a student VLM with V-Zero gated on-policy distillation on a vzero store "
    "(student rollouts on the full image, teacher replay under positive and negative views, "
    "contrastive evidence gate), and evaluate it on full-image benchmarks."
)

main = build_main("vzero-train", DESCRIPTION, COMMANDS)

if __name__ == "__main__":
    raise SystemExit(main())
