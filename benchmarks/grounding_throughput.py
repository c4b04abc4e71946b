"""Grounding throughput: images/s by batch size, and the share of time spent outside the model call.

Models are random-weight checkpoints built from configs (no hub): ``--model-size full`` builds
Grounding DINO-T (Swin-T + BERT-base) and OWLv2 B/16 at their real sizes and input resolutions, so
the forward cost is that of the real models; ``tiny`` uses the test-suite models (then the
preprocessing dominates and the share is not meaningful). Images are synthetic 1024x1024 scenes.
The target for "outside forward" (preprocessing not hidden by the prefetch thread, post-processing,
batching) is under 10%.

  HF_HUB_OFFLINE=1 python benchmarks/grounding_throughput.py --backends grounding-dino,owlv2 --batch-sizes 1,2,4
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def build_full_size(family: str, out: Path) -> Path:
    """A real-size random checkpoint: the tiny factory's processor (real resize settings) + full model."""
    from transformers import (
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        Owlv2Config,
        Owlv2ForObjectDetection,
    )

    from tests.tiny_detectors import save_tiny_model
    from vzero_core.hf_loading import load_processor

    save_tiny_model(family, out)
    processor = load_processor(out)
    if family == "grounding_dino":
        model = GroundingDinoForObjectDetection(GroundingDinoConfig())
        processor.image_processor.size = {"shortest_edge": 800, "longest_edge": 1333}
    else:
        vocab = len(processor.tokenizer)
        tok = processor.tokenizer
        text = dict(
            vocab_size=vocab,
            max_position_embeddings=16,
            bos_token_id=tok.bos_token_id,
            eos_token_id=tok.eos_token_id,
            pad_token_id=tok.pad_token_id,
        )
        model = Owlv2ForObjectDetection(
            Owlv2Config(text_config=text, vision_config=dict(image_size=960, patch_size=16))
        )
        processor.image_processor.size = {"height": 960, "width": 960}
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="grounding-dino,owlv2")
    parser.add_argument("--batch-sizes", default="1,2,4")
    parser.add_argument("--images", type=int, default=8, help="images per measurement")
    parser.add_argument("--model-size", choices=["full", "tiny"], default="full")
    parser.add_argument("--image-size", type=int, default=1024)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    import torch

    from tests.tiny_detectors import save_tiny_model
    from vzero_data.grounding import get_grounder
    from vzero_data.synth import make_scene

    scenes = [make_scene(0, i % 4, args.image_size) for i in range(min(4, args.images))]
    images = [scenes[i % len(scenes)].image for i in range(args.images)]
    phrases = [scenes[i % len(scenes)].target_phrase for i in range(args.images)]
    families = {"grounding-dino": "grounding_dino", "owlv2": "owlv2"}
    print(
        f"torch threads {torch.get_num_threads()}, {args.images} images of {args.image_size}px, {args.model_size} models"
    )
    print(
        f"{'backend':<16} {'batch':>5} {'images/s':>9} {'forward s':>10} {'total s':>8} {'outside forward':>16}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for backend in args.backends.split(","):
            family = families[backend]
            path = Path(tmp) / family
            build_full_size(family, path) if args.model_size == "full" else save_tiny_model(family, path)
            for batch_size in (int(b) for b in args.batch_sizes.split(",")):
                grounder = get_grounder(
                    backend, model=str(path), device=args.device, batch_size=batch_size, progress=False
                )
                grounder.locate(images[:batch_size], phrases[:batch_size])  # warm-up
                grounder.timings.__init__()
                start = time.perf_counter()
                grounder.locate(images, phrases)
                wall = time.perf_counter() - start
                t = grounder.timings
                print(
                    f"{backend:<16} {batch_size:>5} {len(images) / wall:>9.2f} {t.forward_s:>10.2f} "
                    f"{t.total_s:>8.2f} {t.outside_share:>15.1%}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
