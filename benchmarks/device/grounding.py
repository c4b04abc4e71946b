"""The ``grounding`` part: Grounding DINO and OWLv2 at their real sizes through vzero's grounders,
batched, on synthetic scenes of the sizes curation feeds them.

The models have random weights and the published architectures: Grounding DINO-T (Swin-T and
BERT-base, transformers' default ``GroundingDinoConfig``, which is ``IDEA-Research/grounding-dino-tiny``'s)
at its processor's 800-1333 px resize, and OWLv2 B/16 at 960 x 960 (the resolution of OWLv2's image
processor and of ``google/owlv2-base-patch16-ensemble``), built by ``benchmarks/grounding_throughput.py``.
Images at or above the tiling threshold (2048 px by default) are also grounded tile by tile, as in
curation, so each counts as several model inputs. For each image size and batch size: images/s,
model inputs/s, the share of time outside the model call, and the speed-up over batch 1.
"""

from __future__ import annotations

import time
from typing import Any

BACKENDS = (("grounding-dino", "grounding_dino"), ("owlv2", "owlv2"))


def run(ctx: Any, part: Any) -> None:
    s = ctx.sizes
    rows = part.table(
        f"grounding throughput ({s.detector_size} models, dtype auto: bf16 on a GPU)",
        ["backend", "image px", "batch", "images", "images/s", "inputs/s", "outside forward", "vs batch 1"],
    )
    part.data["runs"] = []
    failed = []
    for backend, family in BACKENDS:
        try:
            measure(ctx, part, backend, family, rows)
        except Exception as exc:  # one backend's failure is recorded; the other still runs
            failed.append(backend)
            part.note(f"{backend} failed: {type(exc).__name__}: {exc}")
            part.save()
    if failed:
        raise RuntimeError(f"failed: {', '.join(failed)} (see the notes)")


def measure(ctx: Any, part: Any, backend: str, family: str, rows: list[list[Any]]) -> None:
    """One backend at every image size and batch size the sizes name."""
    from benchmarks.grounding_throughput import build_full_size
    from tests.tiny_detectors import save_tiny_model
    from vzero_data.grounding import get_grounder
    from vzero_data.grounding.base import Timings
    from vzero_data.synth import make_scene

    s = ctx.sizes
    path = ctx.work / f"detector-{family}"
    build_full_size(family, path) if s.detector_size == "full" else save_tiny_model(family, path)
    grounder = get_grounder(backend, model=str(path), device=ctx.device, batch_size=1, progress=False)
    part.data.setdefault("dtype", {})[backend] = str(grounder._dtype)
    for size, n in s.grounding_images:
        scenes = [make_scene(0, i, size) for i in range(min(4, n))]
        images = [scenes[i % len(scenes)].image for i in range(n)]
        phrases = [scenes[i % len(scenes)].target_phrase for i in range(n)]
        base = None
        for batch in s.grounding_batches:
            if ctx.budget.left() < s.grounding_min_s:
                part.note(f"{backend} {size} px from batch {batch}: skipped, the part's time was running out")
                break
            grounder.options = grounder.options.model_copy(update={"batch_size": batch})
            grounder.locate(images[:batch], phrases[:batch])  # warm-up at this batch size
            grounder.timings = Timings()
            t0 = time.perf_counter()
            grounder.locate(images, phrases)
            wall = time.perf_counter() - t0
            t = grounder.timings
            rate = n / wall
            base = base or rate
            run = {
                "backend": backend,
                "image_px": size,
                "batch": batch,
                "images": n,
                "seconds": wall,
                "images_per_s": rate,
                "inputs_per_s": t.model_inputs / wall,
                "outside_share": t.outside_share,
            }
            part.data["runs"].append(run)
            rows.append(
                [backend, size, batch, n, rate, run["inputs_per_s"], f"{t.outside_share:.0%}", rate / base]
            )
            part.save()
