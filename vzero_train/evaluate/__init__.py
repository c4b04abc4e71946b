"""Full-image evaluation: benchmark adapters, answer extraction, scoring with Wilson intervals,
batched greedy inference, reports and plots.

The trainer's in-training validation calls :func:`evaluate_model` on a held-out set and logs
``EvalResult.metrics()``; ``vzero-train eval`` runs the same function over whole benchmarks.
"""

from vzero_data.benchmarks import Benchmark, detect_format, open_benchmark, register_adapter
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped
from vzero_train.evaluate.answers import extract_choice, match_open
from vzero_train.evaluate.runner import EvalResult, evaluate_model, item_question
from vzero_train.evaluate.scoring import ItemResult, Score, Summary, score_response, wilson_interval

__all__ = [
    "Benchmark",
    "EvalDataError",
    "EvalItem",
    "EvalResult",
    "ItemResult",
    "Score",
    "Skipped",
    "Summary",
    "detect_format",
    "evaluate_model",
    "extract_choice",
    "match_open",
    "open_benchmark",
    "item_question",
    "register_adapter",
    "score_response",
    "wilson_interval",
]
