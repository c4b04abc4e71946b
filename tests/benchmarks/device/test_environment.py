"""The environment part: on the GPU machine, a carried wheel that is not the installed version, or a
requirement of the set that what is installed does not meet, fails the part (and says which)."""

from __future__ import annotations

import pytest

from benchmarks.device import check, environment, wheels
from benchmarks.device.budget import Budget
from benchmarks.device.report import Report


def run_environment(tmp_path, monkeypatch, *, strict, versions):
    real = environment.installed_version
    monkeypatch.setattr(environment, "installed_version", lambda name: versions.get(name, real(name)))
    ctx = check.Context("cpu", check.Sizes(), tmp_path, Budget(60), Report(tmp_path, {}), strict=strict)
    part = ctx.report.part("environment")
    return ctx, part


def locked_versions():
    return {w.name: w.version for w in wheels.read_lock()}


def test_every_locked_version_installed_passes(tmp_path, monkeypatch):
    ctx, part = run_environment(tmp_path, monkeypatch, strict=True, versions=locked_versions())
    monkeypatch.setattr(wheels, "resolve", lambda *a: [])  # the test machine's own packages aside
    environment.run(ctx, part)
    assert part.data["mismatched"] == [] and "every carried wheel" in part.entry["notes"][-1]
    assert ctx.report.data["machine"].endswith(f"torch {part.data['machine']['torch']}")


@pytest.mark.parametrize("strict", [True, False])
def test_a_wheel_not_installed_as_locked_is_named_and_fails_only_on_the_gpu_machine(
    tmp_path, monkeypatch, strict
):
    versions = {**locked_versions(), "transformers": "5.17.0"}  # the image's own, not the carried one
    ctx, part = run_environment(tmp_path, monkeypatch, strict=strict, versions=versions)
    monkeypatch.setattr(wheels, "resolve", lambda *a: [])
    if strict:
        with pytest.raises(RuntimeError, match="1 carried wheels not installed as locked"):
            environment.run(ctx, part)
    else:
        environment.run(ctx, part)
    assert part.data["mismatched"] == ["transformers 5.17.0 (locked 5.25.0)"]
    assert "transformers 5.17.0 (locked 5.25.0)" in part.entry["notes"]


def test_an_unmet_requirement_is_named(tmp_path, monkeypatch):
    versions = {**locked_versions(), "pyarrow": "23.0.0"}  # datasets needs pyarrow>=24
    ctx, part = run_environment(tmp_path, monkeypatch, strict=False, versions=versions)
    environment.run(ctx, part)
    assert "datasets requires pyarrow>=24.0.0: installed 23.0.0" in part.data["unmet"]
