"""Why a view could not be made: a machine-readable reason code plus a human message."""

from __future__ import annotations

# Reason codes recorded in the store's rejects table; stable strings, safe to group by.
OVERLAP_EXCEEDS_THRESHOLD = "overlap_exceeds_threshold"
NO_ROOM_OUTSIDE_TARGET = "no_room_outside_target"
WINDOW_EXCEEDS_IMAGE = "window_exceeds_image"
DEGENERATE_VIEW = "degenerate_view"
TARGET_OUTSIDE_IMAGE = "target_outside_image"
POSITIVE_MISSING_TARGET = "positive_missing_target"
TARGET_PIXELS_REMAIN = "target_pixels_remain"
NO_OTHER_IMAGE = "no_other_image"


class ViewRejected(Exception):
    """A view that failed its checks; ``reason`` is a short code, ``message`` says what happened."""

    def __init__(self, reason: str, message: str = "", *, retry: bool = False) -> None:
        self.reason = reason
        self.message = message or reason
        self.retry = retry  # another random draw might succeed (negative_view re-samples, bounded)
        super().__init__(f"{reason}: {self.message}" if message else reason)


class ViewParamsError(ValueError):
    """Invalid parameters for a view strategy or crop policy; the message names strategy and field."""
