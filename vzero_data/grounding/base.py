"""The ``Grounder`` protocol and the machinery model backends share.

A backend subclasses :class:`ModelGrounder` and writes four hooks: ``_load`` (model and processor),
``_prepare`` (CPU preprocessing of one batch), ``_forward`` (the model call) and ``_postprocess``
(raw outputs to :class:`Region` lists in original-image pixels). The base class does the rest:
device and dtype, batching, preparing the next batch on a worker thread while the model runs the
current one (so the accelerator is not left waiting on PIL), tiling of large images, a progress bar,
provenance, and timings (``forward_s`` vs ``total_s``) that the benchmark reads.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from vzero_core.sample import Sample
from vzero_core.versions import MODEL_PACKAGES, package_versions
from vzero_data.grounding.region import Region
from vzero_data.grounding.tiling import TilingConfig, count_views, locate_tiled


@runtime_checkable
class Grounder(Protocol):
    """Finds the region of each image that its phrase names."""

    @property
    def provenance(self) -> dict[str, Any]: ...

    @property
    def device(self) -> str: ...

    def locate(
        self,
        images: Sequence[Image.Image],
        phrases: Sequence[str],
        *,
        samples: Sequence[Sample] | None = None,
    ) -> list[list[Region]]:
        """Per image, its regions (original-image xyxy pixels, clipped), best score first."""
        ...


class GrounderOptions(BaseModel):
    """Options every model backend takes (validated; unknown keys are an error)."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    model: str = Field(description="hub id or local folder")
    device: str = Field("auto", description="auto (cuda, mps, cpu), or a torch device string")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    batch_size: int = Field(4, ge=1)
    max_regions: int = Field(10, ge=1, description="regions kept per image, best first")
    progress: bool = Field(True, description="show a progress bar when there is more than one batch")
    tiling: TilingConfig = TilingConfig()


@dataclass
class Timings:
    """Where grounding time goes; ``outside_share`` is the part not spent in the model call."""

    images: int = 0
    model_inputs: int = 0
    forward_s: float = 0.0
    total_s: float = 0.0

    @property
    def outside_share(self) -> float:
        return 1.0 - self.forward_s / self.total_s if self.total_s > 0 else 0.0


def check_inputs(images: Sequence[Image.Image], phrases: Sequence[str]) -> None:
    if len(images) != len(phrases):
        raise ValueError(f"locate got {len(images)} images but {len(phrases)} phrases")
    for i, phrase in enumerate(phrases):
        if not isinstance(phrase, str) or not phrase.strip():
            raise ValueError(f"locate: phrase {i} is empty")


class ModelGrounder:
    """Base of the model backends (see the module docstring for the hooks)."""

    name: ClassVar[str]
    Options: ClassVar[type[GrounderOptions]] = GrounderOptions
    # Part of the config hash: bump whenever the backend's boxes or scores change for the same inputs.
    output_version: ClassVar[int] = 1
    # Backends whose ``model`` is a transformers folder or hub id set this; curation checks that the
    # model can load before it starts (vzero_core.model_source), and ``_load`` checks it again.
    loads_hub_model: ClassVar[bool] = False

    def __init__(self, options: GrounderOptions) -> None:
        from vzero_core.hf_loading import resolve_device, resolve_dtype

        self.options = options
        self._device = resolve_device(options.device)
        self._dtype = resolve_dtype(options.dtype, self._device)
        self.timings = Timings()
        self._bar: Any = None
        self._provenance: dict[str, Any] | None = None
        self._load()

    # -- hooks -----------------------------------------------------------------------------------
    def _load(self) -> None:
        raise NotImplementedError

    def _prepare(self, images: Sequence[Image.Image], phrases: Sequence[str]) -> Any:
        raise NotImplementedError

    def _forward(self, prepared: Any) -> Any:
        raise NotImplementedError

    def _postprocess(
        self, outputs: Any, prepared: Any, images: Sequence[Image.Image], phrases: Sequence[str]
    ) -> list[list[Region]]:
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        """Options that change results (recorded in provenance)."""
        params = self.options.model_dump(exclude={"model", "device", "batch_size", "progress"})
        params["dtype"] = str(self._dtype).removeprefix("torch.")
        return params

    # -- public ----------------------------------------------------------------------------------
    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def provenance(self) -> dict[str, Any]:
        if self._provenance is None:
            self._provenance = {
                "backend": self.name,
                "model": self.options.model,
                "params": self._params(),
                "versions": package_versions(MODEL_PACKAGES),
            }
        return self._provenance

    def locate(
        self,
        images: Sequence[Image.Image],
        phrases: Sequence[str],
        *,
        samples: Sequence[Sample] | None = None,
    ) -> list[list[Region]]:
        """Ground a batch; ``samples`` is accepted for protocol compatibility and ignored."""
        from vzero_core.progress import progress_bar

        check_inputs(images, phrases)
        start = time.perf_counter()
        tiling = self.options.tiling
        n_inputs = count_views([(im.width, im.height) for im in images], tiling)
        show = self.options.progress and n_inputs > self.options.batch_size
        with progress_bar(total=n_inputs, desc=f"grounding ({self.name})", unit="img", enabled=show) as bar:
            self._bar = bar
            try:
                results = locate_tiled(
                    self._run_batches, images, phrases, tiling, max_regions=self.options.max_regions
                )
            finally:
                self._bar = None
        self.timings.images += len(images)
        self.timings.total_s += time.perf_counter() - start
        return results

    def _run_batches(self, images: Sequence[Image.Image], phrases: Sequence[str]) -> list[list[Region]]:
        size = self.options.batch_size
        chunks = [(images[i : i + size], phrases[i : i + size]) for i in range(0, len(images), size)]
        results: list[list[Region]] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="grounding-prepare") as pool:
            pending = pool.submit(self._prepare, *chunks[0]) if chunks else None
            for k, (batch_images, batch_phrases) in enumerate(chunks):
                prepared = pending.result()
                if k + 1 < len(chunks):
                    pending = pool.submit(self._prepare, *chunks[k + 1])
                t0 = time.perf_counter()
                outputs = self._forward(prepared)
                self._synchronize()
                self.timings.forward_s += time.perf_counter() - t0
                results.extend(self._postprocess(outputs, prepared, batch_images, batch_phrases))
                self.timings.model_inputs += len(batch_images)
                if self._bar is not None:
                    self._bar.update(len(batch_images))
        return results

    def _synchronize(self) -> None:
        import torch

        if self._device.type == "cuda":
            torch.cuda.synchronize(self._device)

    def _to_device(self, batch: Any) -> Any:
        """Move a processor batch to the device, floating tensors to the model dtype."""
        return batch.to(self._device).to(self._dtype) if hasattr(batch, "to") else batch
