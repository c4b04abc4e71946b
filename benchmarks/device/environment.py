"""The ``environment`` part: the machine, the versions that ran, and whether the carried wheels are
what ran.

Every locked wheel must be the installed version (``run.sh`` puts them first on ``PYTHONPATH``), and
every requirement of every locked wheel must be met by what is installed: this is where the
requirements that the image list could not verify (versions nobody recorded) are checked for real.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from typing import Any

from benchmarks.device import wheels

SHOWN = (
    "torch",
    "transformers",
    "huggingface-hub",
    "accelerate",
    "tokenizers",
    "duckdb",
    "pydantic",
    "albumentations",
    "datasets",
    "pyarrow",
    "opencv-python-headless",
    "numpy",
    "pillow",
)


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def machine(device: str) -> dict[str, Any]:
    """What the run ran on: CPU, memory, Python, torch and, on a GPU, the card."""
    import torch

    info: dict[str, Any] = {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_average": os.getloadavg()[0],
    }
    if device == "cuda" and torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(
            gpu=props.name,
            gpu_memory_gb=round(props.total_memory / 1e9, 1),
            multiprocessors=props.multi_processor_count,
            capability=f"{props.major}.{props.minor}",
            cuda=torch.version.cuda,
            cudnn=torch.backends.cudnn.version(),
        )
        if shutil.which("nvidia-smi"):
            query = ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]
            done = subprocess.run(query, capture_output=True, text=True)
            info["driver"] = done.stdout.strip() or None
    return info


def describe(info: dict[str, Any]) -> str:
    """One line naming the machine, for the report's header."""
    gpu = f"{info['gpu']} ({info['gpu_memory_gb']} GB)" if "gpu" in info else "no GPU"
    return f"{gpu}, {info['cpus']} CPUs, {info['memory_gb']} GB RAM, Python {info['python']}, torch {info['torch']}"


def run(ctx: Any, part: Any) -> None:
    info = machine(ctx.device)
    part.data["machine"] = info
    ctx.report.data["machine"] = describe(info)
    rows = part.table("packages", ["package", "version", "from"])
    for name in SHOWN:
        dist = _distribution(name)
        rows.append([name, dist.version if dist else None, str(dist.locate_file("")) if dist else None])
    part.save()

    locked = wheels.read_lock()
    carried = part.table("carried wheels", ["package", "locked", "installed"])
    mismatched = []
    for wheel in locked:
        version = installed_version(wheel.name)
        carried.append([wheel.name, wheel.version, version])
        if version != wheel.version:
            mismatched.append(f"{wheel.name} {version or 'missing'} (locked {wheel.version})")
    unmet = [
        f"{f.wheel} requires {f.requirement}: installed {f.version or 'nothing'}"
        for f in wheels.resolve(locked, lambda name: installed_version(name))
        if not f.ok
    ]
    part.data.update(mismatched=mismatched, unmet=unmet, sys_path=sys.path[:4])
    for line in mismatched + unmet:
        part.note(line)
    if not (mismatched or unmet):
        part.note("every carried wheel is the installed version, and every requirement of the set is met")
    part.save()
    if ctx.strict and (mismatched or unmet):
        raise RuntimeError(
            f"{len(mismatched)} carried wheels not installed as locked, {len(unmet)} requirements unmet: "
            "run through benchmarks/device/run.sh"
        )


def _distribution(name: str) -> metadata.Distribution | None:
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
