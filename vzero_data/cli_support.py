"""Shared plumbing for vzero's command lines: subcommands as modules, located errors, logging."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path


class CommandError(Exception):
    """A user-facing failure: printed as ``error: <message>`` with exit code 2, no traceback."""


def refuse_to_overwrite(paths: Iterable[str | os.PathLike[str]], overwrite: bool) -> None:
    """``CommandError`` naming the first of ``paths`` that exists (a non-empty folder counts), unless
    ``--overwrite`` was given: commands never replace a user's files silently."""
    if overwrite:
        return
    for path in map(Path, paths):
        if path.is_dir() and not any(path.iterdir()):
            continue
        if path.exists() or path.is_symlink():
            raise CommandError(f"{path}: already exists; pass --overwrite to replace it")


def build_main(
    prog: str, description: str, commands: Mapping[str, str]
) -> Callable[[Sequence[str] | None], int]:
    """Make a ``main(argv)`` whose subcommands are the modules in ``commands`` (name -> module path)."""

    def build_parser() -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(prog=prog, description=description)
        parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
        sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
        for name, module_path in commands.items():
            module = importlib.import_module(module_path)
            doc = (module.__doc__ or "").strip()
            p = sub.add_parser(
                name,
                help=module.HELP,
                description=doc or module.HELP,
                formatter_class=argparse.RawDescriptionHelpFormatter,
            )
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
        return parser

    def main(argv: Sequence[str] | None = None) -> int:
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
            datefmt="%H:%M:%S",
        )
        try:
            return int(args._run(args) or 0)
        except CommandError as exc:
            print(f"{prog} {args.command}: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"{prog} {args.command}: interrupted", file=sys.stderr)
            return 130

    return main
