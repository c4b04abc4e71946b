"""Recipe files: one YAML document that says what to curate and how, validated before any work.

A recipe has the sections ``source``, ``grounding``, ``crop``, ``negatives``, ``checks``, ``store``
and ``execution``, and optionally ``audit`` (the evidence audit run after curation) and ``train``. Every section is a strict pydantic model (unknown keys are errors), and the
plugin-specific parts (the source adapter, the grounding backend, each negative strategy and its
params) are checked against their registries, so a typo fails at load time with a located message
such as ``recipe.yaml: negatives[2].params.k: expected an integer >= 2, got 'x'``.

``execution`` holds the knobs that change how fast a run goes but not what it produces (workers,
batch sizes, device, limit, executor); it is left out of the config hash, so a run resumed with more
workers, or on another machine, continues the same results.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from vzero_core.image_io import DEFAULT_MAX_PIXELS
from vzero_core.recipe_base import Section
from vzero_data.audit.config import AuditConfig
from vzero_data.grounding.selection import SelectionPolicy
from vzero_data.grounding.tiling import TilingConfig
from vzero_data.sources.fetch import FetchPolicy
from vzero_data.views.crop_policy import CropPolicy
from vzero_data.views.pool import DEFAULT_POOL_IMAGES, DEFAULT_POOL_MAX_SIDE


class SynthesizeConfig(Section):
    """For the ``synthetic`` adapter: write the scenes (``vzero-data synth``) into ``source.path``
    first when that folder has no manifest yet, so a recipe on synthetic data runs from anywhere."""

    n: int = Field(16, ge=1, le=100_000)
    size: int = Field(1024, ge=128, le=8192)
    seed: int = 0
    text: bool = False


class SourceConfig(Section):
    """Where samples come from: a registered source adapter (``vzero_data.sources.SOURCES``), the path
    it reads, and the adapter options. Relative paths are relative to the working directory."""

    adapter: str = Field(min_length=1)
    path: str = Field(min_length=1, description="file or folder the adapter reads (an HF dataset id for hf)")
    image_root: str | None = Field(
        None, description="folder image paths are relative to, local or remote (default: the source's)"
    )
    split: str | None = None
    max_pixels: int = Field(DEFAULT_MAX_PIXELS, ge=1, description="decompression-bomb guard")
    field_map: dict[str, str] = Field(
        default_factory=dict, description="our field name -> the source's column"
    )
    question_template: str | None = None
    synthesize: SynthesizeConfig | None = Field(
        None, description="synthetic adapter only: generate the scenes into path when they are missing"
    )

    @field_validator("synthesize")
    @classmethod
    def _synthesize_synthetic_only(cls, value: SynthesizeConfig | None, info: Any) -> SynthesizeConfig | None:
        if value is not None and info.data.get("adapter") != "synthetic":
            raise ValueError("only the synthetic adapter can synthesize its source")
        return value


class GroundingConfig(Section):
    """How the question-relevant region is found.

    ``backend`` names a grounder (``vzero_data.grounding.GROUNDERS``): ``annotated`` takes the boxes
    the data set has; model backends (``grounding-dino``, ``owlv2``, ``qwen-vl``) run ``model`` with
    their ``options`` (thresholds, dtype, ...). ``tiling`` splits large images; ``selection`` picks
    the evidence box or rejects the sample with a reason. Device and batch size are in ``execution``.
    """

    backend: str = Field("annotated", min_length=1)
    model: str | None = Field(None, description="hub id or local folder (model backends)")
    options: dict[str, Any] = Field(default_factory=dict)
    tiling: TilingConfig = Field(default_factory=TilingConfig)
    selection: SelectionPolicy = Field(default_factory=SelectionPolicy)


class NegativeConfig(Section):
    """One negative-view strategy, how many views of it per sample, and its parameters."""

    strategy: str = Field(min_length=1)
    count: int = Field(1, ge=1, le=64)
    params: dict[str, Any] = Field(default_factory=dict)
    pool: str | None = Field(
        None, description="folder of images that strategies drawing from other images (cross_image) use"
    )
    pool_images: int = Field(
        DEFAULT_POOL_IMAGES,
        ge=1,
        description="draw from at most this many of the pool's images (an evenly spaced selection of its sorted files)",
    )
    pool_max_side: int = Field(
        DEFAULT_POOL_MAX_SIDE,
        ge=32,
        description="pool images are decoded once and kept with their longer side at most this many pixels",
    )


class BenchmarkOverlapConfig(Section):
    """``checks.benchmark_overlap``: samples whose image or positive crop is found in a benchmark
    (exact bytes, a near-duplicate image, a crop inside a benchmark image, a benchmark target region
    inside the image; see :mod:`vzero_data.fingerprints.contamination`). ``reject`` refuses them
    (reason ``benchmark_overlap``, naming the benchmark item); ``flag`` keeps them and records the
    overlap in ``rejects``. Benchmarks are ``[FORMAT:]PATH`` as ``vzero-data contamination --against``
    takes them; their fingerprints are computed once and cached by image hash. The config hash
    covers the benchmarks' content, not where they are."""

    against: list[str] = Field(default_factory=list, description="benchmarks; empty: the check is off")
    action: Literal["reject", "flag"] = "reject"
    max_distance: int = Field(10, ge=0, le=15, description="pHash bits for a near-duplicate")
    regions: bool = Field(True, description="also look for crops and target regions (local features)")


class ChecksConfig(Section):
    """Checks on finished views, on top of each strategy's own geometric rules.

    A positive that fails rejects its sample. A negative that fails (or that its strategy could not
    make) is recorded in ``rejects`` with its reason; with ``require_all_negatives`` it also rejects
    the sample, so every kept sample has every configured negative (what training expects), while
    without it a sample is kept as long as one negative was made (useful for strategy ablations).
    """

    min_view_side: int = Field(8, ge=1)
    min_pixel_std: float = Field(1.0, ge=0.0)
    reject_duplicate_views: bool = True
    require_all_negatives: bool = True
    benchmark_overlap: BenchmarkOverlapConfig = Field(default_factory=BenchmarkOverlapConfig)


class StoreConfig(Section):
    """Where the store is (``--out`` overrides), how view images are encoded, how big a shard may grow."""

    path: str | None = None
    image_format: Literal["png", "jpeg", "webp"] = "png"
    quality: int = Field(95, ge=1, le=100)
    shard_max_mb: float = Field(256.0, gt=0.0)


class RayConfig(Section):
    """Resources for ``--executor ray``: actor pools for model stages, tasks for CPU stages."""

    address: str | None = None
    grounding_actors: int = Field(1, ge=1)
    gpus_per_actor: float = Field(0.0, ge=0.0)
    cpus_per_task: float = Field(1.0, gt=0.0)
    window: int = Field(256, ge=1, description="samples submitted to Ray at a time (bounds driver memory)")


class ExecutionConfig(Section):
    """How the run is executed; none of this changes the rows a run writes."""

    executor: Literal["local", "ray"] = "local"
    workers: int = Field(2, ge=0, le=512)
    grounding_batch_size: int = Field(8, ge=1)
    samples_per_task: int = Field(4, ge=1)
    max_in_flight: int | None = Field(
        None, ge=1, description="chunks of samples_per_task submitted at once; default max(4, 3 x workers)"
    )
    device: str = "auto"
    limit: int | None = Field(None, ge=1)
    progress: bool = True
    ray: RayConfig = Field(default_factory=RayConfig)
    fetch: FetchPolicy = Field(default_factory=FetchPolicy)

    @field_validator("device")
    @classmethod
    def _device_known(cls, value: str) -> str:
        head = value.split(":", 1)[0]
        if head not in ("auto", "cpu", "cuda", "mps", "xpu"):
            raise ValueError(f"expected 'auto', 'cpu', 'cuda[:N]', 'mps' or 'xpu', got {value!r}")
        return value


class Recipe(Section):
    """A whole curation recipe."""

    name: str = Field(min_length=1)
    description: str = ""
    source: SourceConfig
    grounding: GroundingConfig = Field(default_factory=GroundingConfig)
    crop: CropPolicy = Field(default_factory=CropPolicy)
    negatives: list[NegativeConfig] = Field(min_length=1)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    audit: AuditConfig | None = Field(
        None,
        description="the evidence audit `curate` runs after curation (vzero_data.audit): a teacher scores "
        "every view; with `reject:` failing views become rejects",
    )
    train: dict[str, Any] | None = Field(
        None,
        description="the training section, validated and read by `vzero-train train` (vzero_train.config); "
        "curation ignores it, so one file can hold a whole curate-and-train recipe",
    )
