"""The conventions every subcommand of both command lines shares, checked on every subcommand the
parsers define (so a new subcommand is covered without touching this file): the common options
after the subcommand, a help text on every option, quiet exits into closed pipes."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vzero_core.cli_support import build_parser
from vzero_data import cli as data_cli
from vzero_train import cli as train_cli

ROOT = Path(__file__).resolve().parents[2]
CLIS = {"vzero-data": data_cli, "vzero-train": train_cli}


def subparsers(prog: str) -> dict[str, argparse.ArgumentParser]:
    cli = CLIS[prog]
    parser = build_parser(prog, cli.DESCRIPTION, cli.COMMANDS)
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    out = {}
    for name, sub in action.choices.items():
        nested = [a for a in sub._actions if isinstance(a, argparse._SubParsersAction)]
        if nested:  # e.g. `catalog rebuild`
            out.update({f"{name} {n}": s for n, s in nested[0].choices.items()})
        else:
            out[name] = sub
    return out


def minimal_argv(parser: argparse.ArgumentParser) -> list[str]:
    """Arguments that satisfy ``parser``'s required positionals and options."""
    argv: list[str] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        needs_value = action.nargs != 0
        if not action.option_strings:
            argv += [action.choices[0] if action.choices else "x"] * (1 if action.nargs in (None, "+") else 0)
        elif action.required:
            argv += [action.option_strings[0]] + (["1"] if needs_value else [])
    for group in parser._mutually_exclusive_groups:
        if group.required:
            argv += [group._group_actions[0].option_strings[0], "x"]
    return argv


ALL_SUBCOMMANDS = [(prog, name) for prog in CLIS for name in subparsers(prog)]


@pytest.mark.parametrize("prog, name", ALL_SUBCOMMANDS)
@pytest.mark.parametrize(
    "flags, expected",
    [
        (["--no-progress"], {"no_progress": True, "quiet": False, "verbose": False}),
        (["-q"], {"no_progress": False, "quiet": True, "verbose": False}),
        (["-v", "--no-progress"], {"no_progress": True, "quiet": False, "verbose": True}),
    ],
)
def test_common_options_after_the_subcommand(prog, name, flags, expected):
    cli = CLIS[prog]
    argv = [*name.split(), *minimal_argv(subparsers(prog)[name]), *flags]
    args = build_parser(prog, cli.DESCRIPTION, cli.COMMANDS).parse_args(argv)
    assert {k: getattr(args, k) for k in expected} == expected


@pytest.mark.parametrize("prog", CLIS)
def test_common_options_before_the_subcommand_survive(prog):
    cli = CLIS[prog]
    name = next(iter(subparsers(prog)))
    argv = ["--no-progress", "-q", *name.split(), *minimal_argv(subparsers(prog)[name])]
    args = build_parser(prog, cli.DESCRIPTION, cli.COMMANDS).parse_args(argv)
    assert args.no_progress and args.quiet


@pytest.mark.parametrize("prog, name", ALL_SUBCOMMANDS)
def test_every_option_has_help_text(prog, name):
    missing = [
        "/".join(a.option_strings) or a.dest
        for a in subparsers(prog)[name]._actions
        if not isinstance(a, argparse._SubParsersAction) and not a.help
    ]
    assert missing == [], f"{prog} {name}: options without help text"


def run_into_closed_pipe(argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run ``argv`` with stdout a pipe whose only reader closed before the first write (``| head``
    that already has its line)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    try:
        return subprocess.run(
            [sys.executable, *argv], stdout=write_fd, stderr=subprocess.PIPE, text=True, cwd=cwd, env=env
        )
    finally:
        os.close(write_fd)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from vzero_data.cli import main

    out = tmp_path_factory.mktemp("pipe")
    assert main(["synth", "--out", str(out / "syn"), "--n", "2", "--size", "160"]) == 0
    assert main(["ingest", "--format", "synthetic", str(out / "syn"), "--out", str(out / "store")]) == 0
    return out / "store"


@pytest.mark.e2e
@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "vzero_data.cli", "stats", "{store}"],
        ["-m", "vzero_data.cli", "query", "{store}", "SELECT * FROM samples", "--format", "csv"],
        ["-m", "vzero_data.cli", "query", "{store}", "SELECT * FROM samples", "--format", "table"],
        ["-m", "vzero_data.cli", "eval-grounding", "{store}", "--json"],
        ["-m", "vzero_data.cli", "synth", "--out", "{tmp}/syn", "--n", "1", "--size", "128"],
        ["-m", "vzero_train.cli", "env"],
        ["-m", "vzero_data.cli", "--help"],
    ],
    ids=lambda argv: " ".join(argv[1:3]),
)
def test_output_into_a_closed_pipe_exits_quietly(argv, store, tmp_path):
    argv = [a.format(store=store, tmp=tmp_path) for a in argv]
    done = run_into_closed_pipe(argv, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr
