"""The view stage (CPU): decode, positive crop, negative views, checks, encode. Never raises per sample."""

from __future__ import annotations

import time
import traceback

from vzero_data.pipeline.checks import view_failure, view_key
from vzero_data.pipeline.recipe import Recipe
from vzero_data.pipeline.results import Reject, SampleResult, StoredImage, error_reason, rejected
from vzero_data.pipeline.stages.decode import UnreadableImage, decode_source, unreadable
from vzero_data.pipeline.stages.grounding import Grounded
from vzero_data.pipeline.stages.plan import StagePlan
from vzero_data.pipeline.stages.pool import image_pool


def build_views_chunk(
    items: list[Grounded | SampleResult], plan: StagePlan, *, keep_image: bool = True
) -> list[SampleResult]:
    """The CPU stage for a chunk of samples: decode, crop, check, encode. Never raises per sample.

    With ``keep_image=False`` kept results come back without their image (``image`` is None): a
    driver that still holds the samples it sent attaches it again (:func:`stored_image`), so a
    source image's bytes cross to a worker process and never back.
    """
    results = [item if isinstance(item, SampleResult) else build_views(item, plan.recipe) for item in items]
    if not keep_image:
        for result in results:
            result.image = None
    return results


def stored_image(item: Grounded) -> StoredImage:
    """The store's ``images`` row of a grounded sample: its encoded bytes as the source gave them."""
    s = item.sample
    return StoredImage(s.image_sha256, item.image_bytes, s.width, s.height, item.image_format)


def build_views(item: Grounded, recipe: Recipe) -> SampleResult:
    start = time.perf_counter()
    try:
        result = _build_views(item, recipe)
    except Exception as exc:  # one bad sample must never end the run: record it
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        result = rejected(item.sample, "views", error_reason(exc), detail, regions=item.regions)
    result.seconds = time.perf_counter() - start
    return result


def _build_views(item: Grounded, recipe: Recipe) -> SampleResult:
    from vzero_data.views import POSITIVE_STRATEGY, ViewRejected, negative_view, positive_view, view_seed

    sample, target, sid = item.sample, item.target, item.sample_id
    try:
        image = decode_source(
            item.image_bytes, f"sample {sid} image {sample.image}", recipe.source.max_pixels
        )
    except UnreadableImage as exc:
        return unreadable(sample, exc)
    checks = recipe.checks
    try:
        positive = positive_view(image, target, recipe.crop, seed=view_seed(sid, POSITIVE_STRATEGY, 0))
    except ViewRejected as exc:
        return rejected(sample, "views", exc.reason, f"positive: {exc.message}", regions=item.regions)
    failure = view_failure(positive, checks)
    if failure is not None:
        return rejected(sample, "checks", failure[0], f"positive: {failure[1]}", regions=item.regions)
    prints = sample_fingerprints(image, positive)
    flags: list[Reject] = []
    overlap = benchmark_overlap(item, recipe, image, positive, prints)
    if overlap is not None:
        if checks.benchmark_overlap.action == "reject":
            return rejected(sample, "checks", "benchmark_overlap", overlap, regions=item.regions)
        flags.append(Reject("checks", "benchmark_overlap", overlap))

    views = [positive]
    seen = {view_key(positive)}
    dropped: list[Reject] = []
    per_strategy: dict[str, int] = {}
    for i, neg in enumerate(recipe.negatives):
        pool = image_pool(neg.pool, neg.pool_images, neg.pool_max_side) if neg.pool else None
        for _ in range(neg.count):
            index = per_strategy.get(neg.strategy, 0)
            per_strategy[neg.strategy] = index + 1
            label = f"negatives[{i}] {neg.strategy} #{index}"
            try:
                view = negative_view(
                    neg.strategy,
                    image,
                    target,
                    neg.params,
                    view_seed(sid, neg.strategy, index),
                    positive=positive,
                    pool=pool,
                    image_sha256=sample.image_sha256,
                )
            except ViewRejected as exc:
                dropped.append(Reject("views", exc.reason, f"{label}: {exc.message}"))
                continue
            failure = view_failure(view, checks, seen)
            if failure is not None:
                dropped.append(Reject("checks", failure[0], f"{label}: {failure[1]}"))
                continue
            seen.add(view_key(view))
            views.append(view)

    if len(views) == 1 or (dropped and checks.require_all_negatives):
        first = dropped[0]
        more = f" (and {len(dropped) - 1} more)" if len(dropped) > 1 else ""
        return rejected(sample, first.stage, first.reason, first.detail + more, regions=item.regions)
    fmt, quality = recipe.store.image_format, recipe.store.quality
    rows = [v.to_row(sid, image_format=fmt, quality=quality) for v in views]
    return SampleResult(
        sid,
        sample,
        regions=item.regions,
        views=rows,
        image=stored_image(item),
        dropped=dropped + flags,
        fingerprints=fingerprint_rows(sample, rows[0], positive, prints),
    )


def sample_fingerprints(image, positive) -> tuple:
    """Fingerprints of the sample's image and of its positive crop (:mod:`vzero_data.fingerprints`)."""
    from vzero_data.fingerprints.compute import CROP_FEATURES, fingerprint

    return fingerprint(image), fingerprint(positive.pixels, features=CROP_FEATURES)


def fingerprint_rows(sample, positive_row, positive, prints) -> list[dict]:
    """The ``fingerprints`` rows of the image and the positive crop (the store adds the config hash)."""
    from vzero_data.fingerprints.rows import fingerprint_row

    image_fp, crop_fp = prints
    return [
        fingerprint_row(image_fp, "image", sample.image_sha256, image_sha256=sample.image_sha256),
        fingerprint_row(
            crop_fp,
            "view",
            positive_row["view_id"],
            image_sha256=sample.image_sha256,
            sample_id=sample.sample_id,
            box=positive.box.to_list(),
        ),
    ]


def benchmark_overlap(item: Grounded, recipe: Recipe, image, positive, prints) -> str | None:
    """``checks.benchmark_overlap``: the detail of the sample's first finding in the recipe's
    benchmarks, or None (also when the check is off)."""
    cfg = recipe.checks.benchmark_overlap
    if not cfg.against:
        return None
    from vzero_data.fingerprints.compute import grey
    from vzero_data.fingerprints.overlap import describe, sample_overlap

    image_fp, crop_fp = prints
    finding = sample_overlap(
        cfg.against,
        sample_id=item.sample_id,
        image_sha256=item.sample.image_sha256,
        image_fp=image_fp,
        image_gray=grey(image),
        crop_fp=crop_fp,
        crop_gray=grey(positive.pixels),
        crop_box=positive.box,
        max_distance=cfg.max_distance,
        regions=cfg.regions,
    )
    return None if finding is None else describe(finding)
