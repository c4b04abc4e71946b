"""The sizes of the images a run will see, from the store's narrow columns (no image is decoded).

A training row shows the student the full image; the teacher sees the full image and then, in the
crop slot, the positive view (positive replay) or the negative view (negative replay). Their pixel
sizes are stored next to the blobs (``samples.width/height``, ``views.width/height``), so reading
them touches no image bytes whatever the store's size. ``--image-size WxH`` stands in when there is
no store yet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Sizes = list[tuple[int, int, int]]  # (width, height, how many)


@dataclass(frozen=True)
class ImageSizes:
    """Pixel sizes per role (``full``, ``positive``, ``negative``) and where they came from."""

    full: Sizes
    positive: Sizes
    negative: Sizes
    source: str
    assumed: bool = False
    notes: list[str] = field(default_factory=list)


def parse_size(text: str) -> tuple[int, int]:
    """``"1280x960"`` -> (1280, 960); a clear ``ValueError`` otherwise."""
    parts = text.lower().split("x")
    try:
        width, height = (int(p) for p in parts)
    except ValueError:
        raise ValueError(f"--image-size {text!r}: expected WIDTHxHEIGHT in pixels, e.g. 1280x960") from None
    if width < 1 or height < 1:
        raise ValueError(f"--image-size {text!r}: width and height must be positive")
    return width, height


def assumed_sizes(full: tuple[int, int], crop: tuple[int, int] | None = None) -> ImageSizes:
    """Every image assumed ``full``, every view ``crop`` (default: half the full image's sides)."""
    crop = crop or (max(1, full[0] // 2), max(1, full[1] // 2))
    return ImageSizes(
        [(*full, 1)], [(*crop, 1)], [(*crop, 1)],
        source=f"assumed: full images {full[0]}x{full[1]}, views {crop[0]}x{crop[1]} (no store)",
        assumed=True,
    )  # fmt: skip


def _rows(table: Any) -> Sizes:
    return [
        (int(r["width"]), int(r["height"]), int(r["n"]))
        for r in table.to_pylist()
        if r["width"] and r["height"]
    ]


def half(sizes: Sizes) -> Sizes:
    """The ``relative`` negative's images: each side halved (at least 1 pixel), as the trainer does."""
    return [(max(1, w // 2), max(1, h // 2), n) for w, h, n in sizes]


def store_sizes(store_path: str, data: Any) -> ImageSizes:
    """The full images and the views the recipe's ``data`` section selects, counted by size.

    ``data`` is the recipe's :class:`vzero_train.config.DataConfig`: its ``config_hash``,
    ``positive_strategy`` and ``negative`` (a stored strategy, ``random`` among ``strategies``, or
    ``relative``, computed from the full image and the positive view halved).
    """
    from vzero_data.store import open_store
    from vzero_train.data import RANDOM_NEGATIVE, RELATIVE_NEGATIVE

    store = open_store(store_path)
    where, params = ["TRUE"], []
    if data.config_hash:
        where.append("config_hash = ?")
        params.append(data.config_hash)
    cond = " AND ".join(where)
    full = _rows(
        store.query(
            "SELECT width, height, count(*) AS n FROM "
            f"(SELECT DISTINCT sample_id, width, height FROM samples WHERE {cond}) GROUP BY ALL",
            params,
        )
    )

    def views(kind: str, strategies: list[str] | None) -> Sizes:
        sql = f"SELECT width, height, count(*) AS n FROM views WHERE {cond} AND valid AND kind = ?"
        args = [*params, kind]
        if strategies:
            sql += f" AND strategy IN ({', '.join('?' for _ in strategies)})"
            args += strategies
        return _rows(store.query(sql + " GROUP BY ALL", args))

    positive = views("positive", [data.positive_strategy] if data.positive_strategy else None)
    notes = []
    if data.negative == RELATIVE_NEGATIVE:
        negative = half(positive)
        notes.append("relative negative: the full image and the positive view, each halved")
    elif data.negative == RANDOM_NEGATIVE:
        negative = views("negative", data.strategies)
    else:
        negative = views("negative", [data.negative])
    if not full:
        raise ValueError(
            f"{store_path}: the store holds no samples{' of config ' + data.config_hash if data.config_hash else ''}"
        )
    if not positive:
        raise ValueError(
            f"{store_path}: the store holds no valid positive views for this recipe's data section"
        )
    samples = sum(n for *_, n in full)
    return ImageSizes(
        full, positive, negative or positive, source=f"store {store_path} ({samples} samples)", notes=notes
    )
