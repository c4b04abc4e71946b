"""One tqdm bar per pipeline stage, each showing its count and rate."""

from __future__ import annotations

from collections.abc import Iterable

from tqdm.auto import tqdm

from vzero_data.pipeline.summary import STAGES


class StageBars:
    """Bars for ``ingest``, ``grounding``, ``views`` and ``store``; a no-op when disabled."""

    def __init__(self, enabled: bool, total: int | None = None, stages: Iterable[str] = STAGES) -> None:
        self.bars = {
            name: tqdm(
                total=total,
                desc=f"{name:>9}",
                unit="sample",
                position=i,
                leave=True,
                disable=not enabled,
                dynamic_ncols=True,
                smoothing=0.1,
            )
            for i, name in enumerate(stages)
        }

    def update(self, stage: str, n: int = 1) -> None:
        self.bars[stage].update(n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()

    def __enter__(self) -> StageBars:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
