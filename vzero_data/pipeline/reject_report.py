"""Why samples were rejected, in a form a person acts on: each reason's share of the samples, a
warning when most samples are rejected (naming the reason and what to change), and the verdict of
a run that kept nothing.

Counts come as ``{reason: n}``; the same functions serve ``curate`` and ``ingest``.
"""

from __future__ import annotations

from collections.abc import Mapping

from vzero_data.views import errors as view_errors

# What to change when a reason dominates. Keys are the reason codes recorded in ``rejects``.
ADVICE = {
    view_errors.WINDOW_EXCEEDS_IMAGE: (
        "the targets are too large for the window the strategy cuts (downsampled_distractor halves the "
        "image but keeps the positive's pixel size): on large-box data use masked, shuffled, degraded "
        "or cross_image negatives, or make the positive crop smaller (crop.margin_ratio, crop.min_side)"
    ),
    view_errors.NO_ROOM_OUTSIDE_TARGET: (
        "no window of the positive's size fits outside the target: lower the strategy's gap or raise "
        "its max_overlap, make the positive crop smaller (crop.margin_ratio), or use masked, shuffled, "
        "degraded or cross_image negatives, which need no room outside the target"
    ),
    view_errors.NO_OTHER_IMAGE: "cross_image needs a pool folder with other images (negatives[].pool)",
    "no_box": (
        "the grounder found no box: lower grounding.options thresholds (threshold, text_threshold), "
        "check the target phrases, or use grounding.backend=annotated when the data has boxes"
    ),
    "box_too_large": "raise grounding.selection.max_area_ratio, or check that the phrases name the target",
    "box_too_small": "lower grounding.selection.min_side / min_area_ratio",
    "grounders_disagree": "lower the cross-check's min_iou, or ground with one backend",
    "no_phrase": "give the source a target field (source.field_map target=...) or a question naming the object",
    "image_missing": "check source.path and source.image_root (image paths are relative to image_root)",
    "image_outside_root": "set source.image_root to the folder that holds the images",
    "image_unreadable": "the image files are corrupt or not images; check a few with an image viewer",
    "image_too_large": "raise source.max_pixels if these huge images are trusted",
    "size_mismatch": "the width/height fields disagree with the images; drop or fix those fields",
    "empty_question": "map the question column with source.field_map question=<column>",
    "bad_field": "fix the rows' fields as the reject details say (vzero-data query STORE 'SELECT * FROM rejects')",
}


def reject_shares(rejected: Mapping[str, int], total: int) -> list[tuple[str, int, float]]:
    """``(reason, count, share of total)``, most frequent first."""
    rows = sorted(rejected.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(reason, n, n / total if total else 0.0) for reason, n in rows if n]


def top_reasons(rejected: Mapping[str, int], total: int, k: int = 3) -> str:
    """``no_box (12, 75%), image_missing (4, 25%)``: the ``k`` commonest reasons."""
    rows = reject_shares(rejected, total)
    text = ", ".join(f"{reason} ({n}, {share:.0%})" for reason, n, share in rows[:k])
    return text + (f" and {len(rows) - k} more" if len(rows) > k else "")


def advice(reason: str) -> str:
    """What to change when ``reason`` rejects most samples."""
    return ADVICE.get(
        reason, 'see the details with: vzero-data query STORE "SELECT reason, detail FROM rejects"'
    )


def rejection_warning(rejected: Mapping[str, int], total: int) -> str | None:
    """A warning when more than half of ``total`` samples were rejected, else ``None``."""
    count = sum(rejected.values())
    if not total or count * 2 <= total:
        return None
    reason, n, share = reject_shares(rejected, total)[0]
    return (
        f"warning: {count} of {total} samples ({count / total:.0%}) were rejected; "
        f"the commonest reason is {reason} ({n}, {share:.0%}): {advice(reason)}"
    )


def empty_run_problem(
    *, rows_read: int, kept: int, already_done: int, rejected: Mapping[str, int], source: str
) -> str | None:
    """Why a run that kept nothing failed, or ``None`` when it kept something (or had nothing left
    to do because every row was done before)."""
    if kept or already_done:
        return None
    if rows_read == 0:
        return f"{source}: the source has no rows (check the path and its format)"
    total = sum(rejected.values())
    if total == 0:
        return None  # every row belongs to other shards
    top = reject_shares(rejected, total)[0][0]
    return (
        f"kept 0 of {rows_read} rows read from {source}: every sample was rejected; "
        f"top reasons: {top_reasons(rejected, total)}. {advice(top)}"
    )
