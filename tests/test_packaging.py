"""What a wheel ships: every package, and the recipes at the repository's top, found by name from any
folder once the wheel is installed in a fresh environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("vzero_core", "vzero_data", "vzero_train")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == {"vzero_recipes"}


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory) -> Path:
    """A venv holding vzero from a freshly built wheel (its dependencies come from this environment,
    so nothing is downloaded)."""
    tmp = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp.glob("vzero-*.whl")
    venv = tmp / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120
    )
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return venv


def run_in(folder: Path, venv: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": ""}
    return subprocess.run(list(args), cwd=folder, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.e2e
def test_a_wheel_ships_the_recipes_and_curates_the_demo_by_name_from_an_empty_folder(
    installed_wheel, tmp_path
):
    where = run_in(
        tmp_path,
        installed_wheel,
        "python",
        "-c",
        "import vzero_core.recipes as r, vzero_data; print(r.RECIPES_DIR); print(vzero_data.__file__)",
    )
    assert where.returncode == 0, where.stderr
    recipes_dir, package_file = where.stdout.split()
    site = str(installed_wheel / "lib")
    assert recipes_dir.startswith(site) and package_file.startswith(site), "imported from the checkout"
    assert sorted(p.name for p in Path(recipes_dir).glob("*.yaml")) == sorted(
        p.name for p in (ROOT / "recipes").glob("*.yaml")
    )
    assert (Path(recipes_dir) / "accelerate" / "fsdp_8gpu.yaml").is_file()

    listing = run_in(tmp_path, installed_wheel, "vzero-data", "recipes")
    assert listing.returncode == 0, listing.stderr
    assert "demo" in listing.stdout and "sandbox" in listing.stdout

    curated = run_in(
        tmp_path,
        installed_wheel,
        "vzero-data",
        "curate",
        "demo",
        "--out",
        "store",
        "--limit",
        "2",
        "--no-progress",
    )
    assert curated.returncode == 0, curated.stderr
    assert "kept: 2 samples" in curated.stdout
    assert (tmp_path / "demo_out" / "synth" / "manifest.jsonl").is_file()
