"""Shared plumbing for vzero's command lines: subcommands as modules, the options every subcommand
takes (``-q``, ``-v``, ``--no-progress``), located errors, quiet exits into closed pipes, logging."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

# Set by `vzero-train launch` for the processes it starts: their errors go to this file, one line each
# (``exit code<TAB>message``), and the launcher prints them once instead of every process.
ERROR_FILE_ENV = "VZERO_ERROR_FILE"


class CommandError(Exception):
    """A user-facing failure: printed as ``error: <message>`` with exit code 2, no traceback."""

    exit_code = 2


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


class EmptyResult(CommandError):
    """A run that worked but produced nothing (no rows read, every sample rejected): exit code 1."""

    exit_code = 1


def report_error(prefix: str, message: str, exit_code: int) -> None:
    """Print ``PREFIX: error: MESSAGE`` on stderr once per launched job: under `vzero-train launch`
    (:data:`ERROR_FILE_ENV`) the line goes to the launcher's file instead; in a job started by hand
    with ``accelerate launch`` only the main process prints (the others hit the same error)."""
    from vzero_core.progress import main_process

    error_file = os.environ.get(ERROR_FILE_ENV)
    if error_file:
        with open(error_file, "a", encoding="utf-8") as fh:
            fh.write(f"{exit_code}\t{' '.join(message.split())}\n")
        return
    if main_process():
        print(f"{prefix}: error: {message}", file=sys.stderr)


def read_error_file(path: str | os.PathLike[str]) -> list[tuple[int, str]]:
    """``(exit code, message)`` of each error the processes wrote to ``path`` (see :func:`report_error`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return []
    out = []
    for line in text.splitlines():
        code, sep, message = line.partition("\t")
        if sep and code.isdigit():
            out.append((int(code), message))
    return out


def add_set_option(parser: argparse.ArgumentParser, help: str, dest: str = "set") -> None:
    """The repeatable ``--set KEY=VALUE`` override every recipe-reading command takes."""
    parser.add_argument("--set", dest=dest, action="append", default=[], metavar="KEY=VALUE", help=help)


def add_common_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """``-q``, ``-v`` and ``--no-progress``. On subcommands (``suppress``) they have no default, so the
    same option given before the subcommand is not reset by the subcommand's parser."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if suppress else value

    parser.add_argument(
        "-q", "--quiet", action="store_true", default=default(False),
        help="only warnings and errors, no progress",
    )  # fmt: skip
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=default(False), help="log debug messages"
    )
    parser.add_argument(
        "--no-progress", action="store_true", default=default(False),
        help="no progress bars or progress lines (also: TQDM_DISABLE=1)",
    )  # fmt: skip


def _with_nested(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and the parsers of its own subcommands (``catalog rebuild``), recursively."""
    out = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                out += _with_nested(child)
    return out


def build_parser(prog: str, description: str, commands: Mapping[str, str]) -> argparse.ArgumentParser:
    """The top-level parser with one subparser per module in ``commands`` (name -> module path)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_common_options(parser, suppress=False)
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
        for parser_ in _with_nested(p):
            add_common_options(parser_, suppress=True)
        p.set_defaults(_run=module.run)
    return parser


# Hugging Face libraries' own bars (loading and saving weights, datasets), read at their import
_LIBRARY_BARS_ENV = ("HF_HUB_DISABLE_PROGRESS_BARS", "HF_DATASETS_DISABLE_PROGRESS_BARS")


def quiet_libraries(progress_off: bool) -> None:
    """Switch the Hugging Face libraries' progress bars off when progress is off or stderr is not a
    terminal, where their carriage returns only clutter a log (vzero's own lines stay). Call it
    before they are imported; a variable the user set wins."""
    from vzero_core.progress import stderr_is_terminal

    if progress_off or not stderr_is_terminal():
        for name in _LIBRARY_BARS_ENV:
            os.environ.setdefault(name, "1")


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush into a closed pipe stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a real file (a test's capture): nothing will flush into a pipe


def build_main(
    prog: str, description: str, commands: Mapping[str, str]
) -> Callable[[Sequence[str] | None], int]:
    """Make a ``main(argv)`` whose subcommands are the modules in ``commands`` (name -> module path)."""

    def main(argv: Sequence[str] | None = None) -> int:
        from vzero_core.progress import progress_disabled

        args = build_parser(prog, description, commands).parse_args(argv)
        level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
        logging.basicConfig(
            level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S"
        )
        logging.getLogger().setLevel(level)
        quiet_libraries(args.no_progress or args.quiet)
        try:
            with progress_disabled(args.no_progress or args.quiet):
                code = int(args._run(args) or 0)
            sys.stdout.flush()  # a closed pipe fails here, inside the handler, not at interpreter exit
            return code
        except CommandError as exc:
            report_error(f"{prog} {args.command}", str(exc), exc.exit_code)
            return exc.exit_code
        except BrokenPipeError:
            # The reader went away (`| head`): what it wanted it has; stop without a traceback.
            _silence_stdout()
            return 0
        except KeyboardInterrupt:
            print(f"{prog} {args.command}: interrupted", file=sys.stderr)
            return 130

    return main
