"""Report the training environment: package versions and the accelerator vzero would use.

example:
  vzero-train env
"""

from __future__ import annotations

import argparse

HELP = "show package versions and the device training would run on"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print as JSON")


def run(args: argparse.Namespace) -> int:
    import json
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import torch

    packages = {}
    for name in ("vzero", "torch", "transformers", "accelerate", "datasets", "duckdb", "pyarrow"):
        try:
            packages[name] = version(name)
        except PackageNotFoundError:
            packages[name] = None
    if torch.cuda.is_available():
        device = f"cuda ({torch.cuda.device_count()} x {torch.cuda.get_device_name(0)})"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        device = "mps"
    else:
        device = f"cpu ({torch.get_num_threads()} threads)"
    info = {"python": platform.python_version(), "packages": packages, "device": device}
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(f"python {info['python']}, device: {device}")
        for name, ver in packages.items():
            print(f"  {name:<13} {ver or 'not installed'}")
    return 0
