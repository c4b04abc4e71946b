"""What a negative-view strategy is: a validated params model plus a pure generating function."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
from pydantic import ValidationError

from vzero_core.boxes import Box
from vzero_data.views.errors import ViewParamsError
from vzero_data.views.geometry import resize
from vzero_data.views.params import AvoidTargetParams, NegativeParams, format_validation_error
from vzero_data.views.pool import ImagePool
from vzero_data.views.view import View

P = TypeVar("P", bound=NegativeParams)


@dataclass(frozen=True)
class Candidate:
    """One sampled negative before checks: pixels, source window (original coordinates) and notes."""

    pixels: np.ndarray
    box: Box | None
    source_image_sha256: str | None = None
    checks: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StrategyContext:
    """What a strategy may use beyond image, target, params and random generator."""

    positive: View
    pool: ImagePool | None = None
    image_sha256: str | None = None


# generate(image, target, params, rng, context) -> Candidate; may raise ViewRejected.
GenerateFn = Callable[[np.ndarray, Box, Any, np.random.Generator, StrategyContext], Candidate]
# verify(candidate, target, params, context) -> None if fine, else (reason, message).
VerifyFn = Callable[[Candidate, Box, Any, StrategyContext], "tuple[str, str] | None"]


@dataclass(frozen=True)
class NegativeStrategy(Generic[P]):
    """A named negative-view strategy.

    ``avoids_target``: the source window must keep the target's overlap at or below
    ``params.max_overlap`` (checked and re-sampled by :func:`negative_view`); such strategies take
    :class:`AvoidTargetParams`. ``verify``: an extra check specific to the strategy. ``preload``:
    modules the strategy imports lazily that are slow to import; a pool of worker processes imports
    them once, before it forks its workers, instead of once per worker.
    ``output_version``: part of the config hash; bump it whenever the strategy's pixels or boxes
    change for the same inputs, so stores never mix the old views with the new ones
    (``tests/vzero_data/views/test_output_versions.py`` pins each strategy's output).
    """

    name: str
    params_model: type[P]
    generate: GenerateFn
    summary: str
    avoids_target: bool = False
    verify: VerifyFn | None = None
    output_version: int = 1
    preload: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.avoids_target and not issubclass(self.params_model, AvoidTargetParams):
            raise TypeError(f"strategy {self.name!r} avoids the target, so its params need AvoidTargetParams")

    def make_params(self, params: Mapping[str, Any] | NegativeParams | None = None) -> P:
        """Validated params; errors name this strategy and the field."""
        if isinstance(params, self.params_model):
            return params
        if params is not None and not isinstance(params, Mapping):
            raise TypeError(f"negative strategy {self.name!r}: params must be a mapping, got {params!r}")
        try:
            return self.params_model.model_validate(dict(params or {}))
        except ValidationError as exc:
            raise ViewParamsError(format_validation_error(f"negative strategy {self.name!r}", exc)) from exc


def scale_like_positive(pixels: np.ndarray, positive: View) -> np.ndarray:
    """Resize a window's pixels by the positive's upscale factor, so a window of the positive's size
    comes out at exactly the positive's pixel size (the teacher then sees equal-sized views)."""
    pos_w, pos_h = positive.box.width, positive.box.height
    if positive.width == pos_w and positive.height == pos_h:
        return pixels
    h, w = pixels.shape[:2]
    return resize(
        pixels, max(1, round(w * positive.width / pos_w)), max(1, round(h * positive.height / pos_h))
    )
