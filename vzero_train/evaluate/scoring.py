"""Scoring responses and summarizing accuracy with 95% Wilson score intervals.

Why Wilson: benchmark slices are often small (a V* subtask has 76 items, an HR-Bench category 100)
and accuracies sit near 0 or 1, where the normal approximation ``p +- z*sqrt(p(1-p)/n)`` gives
intervals outside [0, 1] or of zero width (at 0/n and n/n). The Wilson interval inverts the score
test instead, stays inside [0, 1], and has close to nominal coverage even for small ``n``
(Brown, Cai and DasGupta 2001, "Interval Estimation for a Binomial Proportion").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from vzero_core.intervals import CONFIDENCE, wilson_interval
from vzero_data.benchmarks.items import EvalItem
from vzero_train.evaluate.answers import extract_choice, match_open

if TYPE_CHECKING:
    from vzero_train.evaluate.judge import Judge


@dataclass(frozen=True)
class ItemResult:
    """The scored response to one item. ``prediction`` is a letter for multiple choice (``None``
    when unparseable), else the span read as the answer."""

    item_id: str
    benchmark: str
    category: str
    question: str
    options: tuple[str, ...]
    answer: str
    response: str
    prediction: str | None
    correct: bool
    judged: bool = False
    group: str | None = None  # the base question this item rotates the options of (HR-Bench)
    rotation: str | None = None  # which rotation it is (HR-Bench's cycle_category)
    protocol: str | None = None  # how the adapter read the item (option order, label source)

    @property
    def parsed(self) -> bool:
        return self.prediction is not None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["options"] = list(self.options)
        return out


def score_response(item: EvalItem, response: str, judge: Judge | None = None) -> ItemResult:
    """Score ``response`` to ``item`` by rules; ``judge`` (if given) decides what the rules cannot:
    an unparseable multiple-choice response, or an open answer that is not an exact match."""
    judged = False
    if item.is_multiple_choice:
        prediction = extract_choice(response, item.options)
        if prediction is None and judge is not None:
            prediction, judged = judge.choose(item, response), True
        correct = prediction == item.answer
    else:
        prediction, correct = match_open(response, item.answer)
        if prediction is not None and not correct and judge is not None:
            verdict = judge.agrees(item, response)
            correct, judged = bool(verdict), verdict is not None
    return ItemResult(
        item_id=item.item_id,
        benchmark=item.benchmark,
        category=item.category,
        question=item.question,
        options=item.options,
        answer=item.answer,
        response=response,
        prediction=prediction,
        correct=correct,
        judged=judged,
        group=item.metadata.get("rotation_group"),
        rotation=item.metadata.get("rotation"),
        protocol=item.metadata.get("protocol"),
    )


@dataclass(frozen=True)
class Score:
    """Accuracy of a slice with its Wilson interval; unparseable responses count as wrong."""

    n: int
    correct: int
    unparseable: int
    judged: int = 0
    accuracy: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float = CONFIDENCE

    @classmethod
    def of(cls, results: Iterable[ItemResult], confidence: float = CONFIDENCE) -> Score:
        n = correct = unparseable = judged = 0
        for r in results:
            n += 1
            correct += r.correct
            unparseable += not r.parsed
            judged += r.judged
        if n == 0:
            return cls(0, 0, 0, 0, confidence=confidence)
        low, high = wilson_interval(correct, n, confidence)
        return cls(n, correct, unparseable, judged, correct / n, low, high, confidence)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CycleScore:
    """Scores over option rotations (HR-Bench): ``strict`` counts a base question as correct only
    when every rotation of it is answered correctly; ``rotation_mean`` is the mean over rotations of
    each rotation's accuracy, the number HR-Bench's own scripts, lmms-eval and VLMEvalKit report."""

    strict: Score
    rotation_mean: float | None
    rotations: int

    @classmethod
    def of(cls, results: list[ItemResult], confidence: float = CONFIDENCE) -> CycleScore | None:
        grouped = [r for r in results if r.group is not None]
        if not grouped:
            return None
        by_group: dict[str, list[ItemResult]] = {}
        by_rotation: dict[str, list[ItemResult]] = {}
        for r in grouped:
            by_group.setdefault(r.group, []).append(r)
            by_rotation.setdefault(r.rotation or "", []).append(r)
        strict = [
            replace(rs[0], correct=all(x.correct for x in rs), judged=any(x.judged for x in rs))
            for rs in by_group.values()
        ]
        means = [sum(x.correct for x in rs) / len(rs) for rs in by_rotation.values()]
        return cls(Score.of(strict, confidence), sum(means) / len(means), len(by_rotation))

    def to_dict(self) -> dict[str, Any]:
        return {
            "strict": self.strict.to_dict(),
            "rotation_mean": self.rotation_mean,
            "rotations": self.rotations,
        }


@dataclass(frozen=True)
class Summary:
    """A benchmark's overall score and its score per category (sorted by name); the cycle score
    when items rotate options; the protocols the adapter read the items under."""

    overall: Score
    categories: dict[str, Score] = field(default_factory=dict)
    cycle: CycleScore | None = None
    protocols: tuple[str, ...] = ()

    @classmethod
    def of(cls, results: list[ItemResult], confidence: float = CONFIDENCE) -> Summary:
        by_category: dict[str, list[ItemResult]] = {}
        for r in results:
            by_category.setdefault(r.category, []).append(r)
        return cls(
            Score.of(results, confidence),
            {c: Score.of(rs, confidence) for c, rs in sorted(by_category.items())},
            CycleScore.of(results, confidence),
            tuple(dict.fromkeys(r.protocol for r in results if r.protocol)),
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "overall": self.overall.to_dict(),
            "categories": {c: s.to_dict() for c, s in self.categories.items()},
        }
        if self.cycle is not None:
            out["cycle"] = self.cycle.to_dict()
        if self.protocols:
            out["protocols"] = list(self.protocols)
        return out
