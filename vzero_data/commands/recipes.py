"""List the recipes that ship with vzero, print one, or copy one out to edit.

Every command that takes a recipe also takes these names: `vzero-data curate demo` and
`vzero-train train demo` work from any folder. The accelerate config files that recipe headers
launch with (`vzero-train launch RECIPE --accelerate-config fsdp_8gpu`) ship too: the launcher finds
them by name, and they are copied out the same way to edit: `vzero-data recipes fsdp_8gpu --out .`.

examples:
  vzero-data recipes
  vzero-data recipes demo
  vzero-data recipes groundingdino_vstar --out my_recipe.yaml
"""

from __future__ import annotations

import argparse

HELP = "list the shipped recipes, print one, or copy one out (--out)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="a shipped recipe to print (default: list them all)")
    parser.add_argument("--out", help="copy the recipe to this file or folder instead of printing it")
    parser.add_argument("--force", action="store_true", help="with --out: replace an existing file")


def listing_entry(name: str, text: str, width: int, columns: int = 100) -> str:
    """``name`` and its description, the description wrapped under itself (never cut)."""
    import textwrap

    indent = " " * (width + 2)
    lines = textwrap.wrap(text, columns - len(indent)) or [""]
    return f"{name:<{width}}  " + f"\n{indent}".join(lines)


def run(args: argparse.Namespace) -> int:
    import shutil
    from pathlib import Path

    from vzero_core.cli_support import CommandError
    from vzero_core.recipes import description, header_command, shipped_accelerate_configs, shipped_recipes

    recipes = shipped_recipes()
    launch_configs = shipped_accelerate_configs()
    if args.name is None:
        if args.out:
            raise CommandError("--out needs a recipe name: vzero-data recipes NAME --out FILE")
        width = max(len(name) for name in {**recipes, **launch_configs})
        for name, path in recipes.items():
            print(listing_entry(name, description(path), width))
            print(f"{'':<{width}}  run: {header_command(path)}")
        if launch_configs:
            print(
                "\naccelerate configs (`vzero-train launch RECIPE --accelerate-config NAME` finds them by "
                "name; copy one out to edit it):"
            )
            for name, path in launch_configs.items():
                print(listing_entry(name, description(path), width))
        print("\nprint one: vzero-data recipes NAME; copy one to edit: vzero-data recipes NAME --out FILE")
        return 0
    name = args.name.removesuffix(".yaml")
    shipped = {**recipes, **launch_configs}
    if name not in shipped:
        from vzero_core.names import unknown_name

        raise CommandError(unknown_name("recipe", args.name, shipped))
    source = shipped[name]
    if not args.out:
        print(source.read_text(encoding="utf-8"), end="")
        return 0
    dest = Path(args.out)
    if dest.is_dir():
        dest = dest / source.name
    if dest.exists() and not args.force:
        raise CommandError(f"{dest} exists: pass --force to replace it")
    shutil.copyfile(source, dest)
    print(
        f"copied {name} to {dest}; run it with: vzero-data curate {dest}"
        if "source:" in source.read_text()
        else f"copied {name} to {dest}"
    )
    return 0
