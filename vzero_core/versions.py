"""Installed versions of the packages that shape vzero's outputs, for provenance records."""

from __future__ import annotations

from importlib import metadata

# What a store's runs record: the packages that decide how rows are read, encoded and computed.
STORE_PACKAGES = ("vzero", "pyarrow", "duckdb", "datasets", "pillow", "numpy", "torch", "transformers")
# What a grounder's provenance records: the packages that run its model.
MODEL_PACKAGES = ("vzero", "torch", "transformers")


def package_versions(names: tuple[str, ...] = STORE_PACKAGES) -> dict[str, str]:
    """``{name: version}`` of the installed packages among ``names``, read from package metadata
    (nothing is imported); ``vzero`` is this code's own version, installed or not."""
    out = {}
    for name in names:
        if name == "vzero":
            from vzero_core import __version__

            out[name] = __version__
            continue
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out
