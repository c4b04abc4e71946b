"""Checks on a run's store before any model is built: a wrong name fails in a second, not after loading.

The store must exist, hold valid views of one curation config (or of the one the recipe names), and
hold the negative (and positive) strategies the recipe asks for. Each failure lists what the store
does hold, so the fix is one edit of the recipe.
"""

from __future__ import annotations

from typing import Any

from vzero_train.config import TrainConfig
from vzero_train.data import RANDOM_NEGATIVE, RELATIVE_NEGATIVE


class TrainingDataError(ValueError):
    """The recipe's store cannot give the records the recipe asks for; the message says what it holds."""


def _names(values: list[str]) -> str:
    return ", ".join(values) if values else "none"


def view_inventory(store: Any) -> dict[str, dict[str, dict[str, int]]]:
    """``{config_hash: {kind: {strategy: samples}}}`` over the store's valid views."""
    table = store.query(
        "SELECT config_hash, kind, strategy, count(DISTINCT sample_id) AS n FROM views WHERE valid "
        "GROUP BY ALL ORDER BY ALL"
    )
    inventory: dict[str, dict[str, dict[str, int]]] = {}
    for row in table.to_pylist():
        inventory.setdefault(row["config_hash"], {}).setdefault(row["kind"], {})[row["strategy"]] = row["n"]
    return inventory


def check_training_store(config: TrainConfig) -> dict[str, dict[str, int]]:
    """Raise :class:`TrainingDataError` unless ``config.store`` can feed this run; return the chosen
    config's ``{kind: {strategy: samples}}``."""
    from vzero_data.store import StoreError, open_store

    if not config.store:
        raise TrainingDataError("the train recipe names no store (train.store or a top-level store: path)")
    try:
        store = open_store(config.store)
    except StoreError as exc:
        raise TrainingDataError(f"train.store: {exc}; curate it first (vzero-data curate RECIPE)") from None
    inventory = view_inventory(store)
    where = f"store {config.store}"
    if not inventory:
        raise TrainingDataError(f"{where} holds no valid views: nothing to train on")
    data = config.data
    if data.config_hash is not None:
        if data.config_hash not in inventory:
            raise TrainingDataError(
                f"{where} has no views of train.data.config_hash {data.config_hash!r}; "
                f"it holds: {_names(sorted(inventory))}"
            )
        chosen = inventory[data.config_hash]
    elif len(inventory) > 1:
        raise TrainingDataError(
            f"{where} holds views of several curation configs ({_names(sorted(inventory))}); "
            "name one with train.data.config_hash"
        )
    else:
        chosen = next(iter(inventory.values()))

    negatives = sorted(chosen.get("negative", {}))
    positives = sorted(chosen.get("positive", {}))
    wanted = list(data.strategies or [])
    if data.negative not in (RANDOM_NEGATIVE, RELATIVE_NEGATIVE):  # those two name no stored view
        wanted.append(data.negative)
    missing = [name for name in dict.fromkeys(wanted) if name not in negatives]
    if missing:
        field = "train.data.negative" if missing == [data.negative] else "train.data.strategies"
        raise TrainingDataError(
            f"{where} has no negative views of strategy {_names(missing)} ({field}); "
            f"it holds: {_names(negatives)}"
        )
    if not negatives and config.gate.enabled and data.negative != RELATIVE_NEGATIVE:
        raise TrainingDataError(f"{where} holds no negative views; the gate needs one per sample")
    if data.positive_strategy is not None and data.positive_strategy not in positives:
        raise TrainingDataError(
            f"{where} has no positive views of strategy {data.positive_strategy!r} "
            f"(train.data.positive_strategy); it holds: {_names(positives)}"
        )
    if not positives:
        raise TrainingDataError(f"{where} holds no positive views (the teacher's evidence crop)")
    return chosen
