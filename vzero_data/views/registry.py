"""``NEGATIVE_STRATEGIES``: negative-view strategies by name. A new strategy is one module under
``vzero_data/views/negatives/`` plus one line here (or :func:`register_strategy` from outside)."""

from __future__ import annotations

from vzero_data.views.negatives import (
    cross_image,
    degraded,
    distractor,
    downsampled_distractor,
    downsampled_view,
    masked,
    random_positive,
    shuffled,
)
from vzero_data.views.strategy import NegativeStrategy

NEGATIVE_STRATEGIES: dict[str, NegativeStrategy] = {
    s.name: s
    for s in (
        downsampled_distractor.STRATEGY,
        distractor.STRATEGY,
        masked.STRATEGY,
        shuffled.STRATEGY,
        cross_image.STRATEGY,
        degraded.STRATEGY,
        random_positive.STRATEGY,
        downsampled_view.STRATEGY,
    )
}
DEFAULT_NEGATIVE = "downsampled_distractor"


class UnknownStrategyError(KeyError):
    """A strategy name that is not registered; the message lists the known names."""

    def __str__(self) -> str:
        return str(self.args[0])


def get_strategy(name: str) -> NegativeStrategy:
    """The strategy registered as ``name``."""
    try:
        return NEGATIVE_STRATEGIES[name]
    except KeyError:
        from vzero_core.names import unknown_name

        raise UnknownStrategyError(
            unknown_name("negative-view strategy", name, NEGATIVE_STRATEGIES)
        ) from None


def register_strategy(strategy: NegativeStrategy, *, replace: bool = False) -> NegativeStrategy:
    """Add a strategy (e.g. from a plugin module); refuses to shadow an existing name unless ``replace``."""
    if strategy.name in NEGATIVE_STRATEGIES and not replace:
        raise ValueError(f"negative-view strategy {strategy.name!r} is already registered")
    NEGATIVE_STRATEGIES[strategy.name] = strategy
    return strategy
