"""Hugging Face data sets: a folder from ``Dataset.save_to_disk``, a Parquet file or folder, or a hub
name (``--split``, needs the network). Rows use the generic fields (see :mod:`.generic`; rename with
``--field``); the ``image`` column may be an Image feature (embedded bytes) or a path under
--image-root. Rows stream: nothing is held whole in memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vzero_core.rows import Rejected, SourceError, iter_parquet
from vzero_data.sources.base import RawItem, SourceOptions
from vzero_data.sources.generic import generic_items


def _undecoded(ds: Any) -> Any:
    """Keep Image columns as ``{"bytes", "path"}``: no decode/re-encode round trip."""
    import datasets

    for name, feature in ds.features.items():
        if isinstance(feature, datasets.Image) and feature.decode:
            ds = ds.cast_column(name, datasets.Image(decode=False))
    return ds


def _pick_split(ds: Any, split: str | None, src: str) -> Any:
    import datasets

    if isinstance(ds, (datasets.DatasetDict, datasets.IterableDatasetDict)):
        names = list(ds.keys())
        if split is None:
            if len(names) != 1:
                raise SourceError(f"{src}: has splits {names}; choose one with --split")
            split = names[0]
        if split not in ds:
            raise SourceError(f"{src}: no split {split!r}; splits: {names}")
        return ds[split], split
    return ds, split


def _rows(ds: Any, label: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for i, row in enumerate(_undecoded(ds)):
        yield f"{label} row {i}", row


class HfSource:
    name = "hf"
    description = "Hugging Face dataset: save_to_disk folder, Parquet file/folder, or hub name (--split)"

    def read(self, src: str, options: SourceOptions) -> Iterator[RawItem | Rejected]:
        path = Path(src)
        if path.is_file() or (path.is_dir() and not _is_saved_dataset(path) and any(path.rglob("*.parquet"))):
            return generic_items(iter_parquet(path), options, self.name)
        import datasets

        if path.is_dir():
            try:
                ds = datasets.load_from_disk(str(path))
            except Exception as exc:
                raise SourceError(f"{src}: not a saved Hugging Face dataset ({exc})") from exc
            ds, split = _pick_split(ds, options.split, src)
            label = f"{src}[{split}]" if split else src
        else:
            try:
                ds = datasets.load_dataset(src, split=options.split, streaming=True)
            except Exception as exc:
                raise SourceError(
                    f"{src}: not a local path, and loading it from the hub failed ({type(exc).__name__}: {exc})"
                ) from exc
            ds, split = _pick_split(ds, options.split, src)
            label = f"{src}[{split}]"
        return generic_items(_rows(ds, label), options, self.name)


def _is_saved_dataset(path: Path) -> bool:
    return (
        (path / "dataset_info.json").exists()
        or (path / "dataset_dict.json").exists()
        or (path / "state.json").exists()
    )
