"""Can a tiny student learn the sandbox's task from full images? A probe, not part of the sandbox.

Trains a tiny Qwen2.5-VL by SFT (the project's ``SFTTrainer``) on freshly generated scenes every
step, so it never sees a scene twice, and prints held-out accuracy (the answer is the option the
model scores highest) every ``--every`` steps. Worlds:

  shape            the sandbox's shared-colour world: "What is the color of the <shape>?"
  position         the same scenes; the target is the one object alone in a named ninth of the image
  quadrant         the same, with quarters of the image
  shape_of_colour  "What shape is the <colour> object?": every option shape on the same number of
                   objects, the target alone in its colour

Curricula: ``--zoom N`` starts from windows tight around the target and widens them to the full
image over N steps; ``--objects a,b,c`` trains on scenes of 1, 2, 3 ... objects until steps a, b, c.
``--init DIR`` starts from a model folder (e.g. the sandbox teacher's checkpoint).

usage: python benchmarks/sandbox_learnability.py [--world shape] [--seconds 300] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from vzero_core.boxes import Box
from vzero_core.prompt_text import question_text
from vzero_core.vlm.prompts import encode_prompts
from vzero_core.vlm.replay import response_logprobs
from vzero_data.synth import SharedColourKnobs, make_shared_colour_scene
from vzero_data.synth.scene import PALETTE, SHAPES, background, paint_mask, region_name, shape_mask
from vzero_train.sft import SFTConfig, SFTExample, SFTTrainer
from vzero_train.sft_loss import answer_token_ids

WORLDS = ("shape", "position", "quadrant", "shape_of_colour")


@dataclass(frozen=True)
class Item:
    sample_id: str
    question: str
    eval_options: tuple[str, ...]
    eval_answer: str
    image: Any
    positive: Any = None


def _place(canvas: Image.Image, shapes_colours, knobs: SharedColourKnobs, rng) -> bool:
    placed: list[Box] = []
    for shape, colour in shapes_colours:
        side = int(round(knobs.size * rng.uniform(*knobs.side_fraction)))
        mask = shape_mask(shape, side, rng)
        for _ in range(200):
            x, y = (int(v) for v in rng.integers(0, knobs.size - side + 1, size=2))
            cell = Box(x, y, x + side, y + side)
            if all(cell.intersection_area(b.expand(pixels=2)) == 0 for b in placed):
                placed.append(cell)
                paint_mask(canvas, mask, x, y, PALETTE[colour])
                break
        else:
            return False
    return True


def _quadrant(box: Box, w: int, h: int) -> str:
    cx, cy = box.center
    return ("top" if cy < h / 2 else "bottom") + " " + ("left" if cx < w / 2 else "right")


def _shape_of_colour(seed: int, i: int, knobs: SharedColourKnobs) -> Item | None:
    rng = np.random.default_rng([seed, i, 23])
    canvas = Image.fromarray(background(knobs.size, rng), "RGB")
    shapes = [str(x) for x in rng.choice(SHAPES, size=4, replace=False)]
    colours = [str(c) for c in rng.choice(list(PALETTE), size=4, replace=False)]
    objs = [shapes[k % 4] for k in rng.permutation(4 * knobs.objects_per_colour)]
    paint = [colours[0]] + [colours[1 + (k % 3)] for k in range(len(objs) - 1)]
    if not _place(canvas, zip(objs, paint, strict=True), knobs, rng):
        return None
    options = tuple(shapes[j] for j in rng.permutation(4))
    return Item(f"s{seed}-{i}", f"What shape is the {colours[0]} object?", options, objs[0], canvas)


def make_item(world: str, seed: int, i: int, knobs: SharedColourKnobs) -> Item:
    for attempt in range(50):
        j = i + attempt * 10_000_000
        if world == "shape_of_colour":
            item = _shape_of_colour(seed, j, knobs)
            if item is not None:
                return item
            continue
        scene = make_shared_colour_scene(seed, j, knobs)
        if world == "shape":
            return Item(f"{seed}-{i}", scene.question, scene.options, scene.answer, scene.image)
        objects = [scene.target, *scene.objects]
        name = region_name if world == "position" else _quadrant
        regions = [name(o.box, knobs.size, knobs.size) for o in objects]
        for k in np.random.default_rng([seed, j, 17]).permutation(len(objects)):
            if regions.count(regions[k]) == 1:
                question = f"What is the color of the object in the {regions[k]}?"
                return Item(f"p{seed}-{i}", question, scene.options, objects[k].color, scene.image)
    raise RuntimeError(f"no {world} scene for index {i}")


def few_objects(seed: int, i: int, n: int, knobs: SharedColourKnobs) -> Item:
    """``n`` objects of distinct shapes; the target's colour is on no other object."""
    rng = np.random.default_rng([seed, i, 5])
    canvas = Image.fromarray(background(knobs.size, rng), "RGB")
    colours = [str(c) for c in rng.choice(list(PALETTE), size=4, replace=False)]
    shapes = [str(s) for s in rng.choice(SHAPES, size=n, replace=False)]
    paint = [colours[0]] + [colours[1 + int(k)] for k in rng.integers(0, 3, size=n - 1)]
    _place(canvas, zip(shapes, paint, strict=True), knobs, rng)
    options = tuple(colours[j] for j in rng.permutation(4))
    return Item(f"f{seed}-{i}", f"What is the color of the {shapes[0]}?", options, colours[0], canvas)


def zoomed(seed: int, i: int, frac: float, knobs: SharedColourKnobs) -> Item:
    """A window around the target, from tight (``frac`` 0) to the whole image (1), resized to the scene."""
    scene = make_shared_colour_scene(seed, i, knobs)
    rng = np.random.default_rng([seed, i, 11])
    b, size = scene.target.box, knobs.size
    side = max(b.x2 - b.x1, b.y2 - b.y1) * 1.4
    side += (size - side) * frac
    xs = sorted((max(b.x2 - side / 2, side / 2), min(b.x1 + side / 2, size - side / 2)))
    ys = sorted((max(b.y2 - side / 2, side / 2), min(b.y1 + side / 2, size - side / 2)))
    cx, cy = rng.uniform(*xs), rng.uniform(*ys)
    window = (int(cx - side / 2), int(cy - side / 2), int(cx + side / 2), int(cy + side / 2))
    image = scene.image.crop(window).resize((size, size), Image.BICUBIC)
    return Item(f"z{seed}-{i}", scene.question, scene.options, scene.answer, image)


def accuracy(trainer: SFTTrainer, items: list[Item]) -> float:
    """Share of items whose answer is the option with the highest summed log-prob."""
    model, vlm = trainer.model, trainer.vlm
    device = next(model.parameters()).device
    model.eval()
    correct = 0
    with torch.no_grad():
        for k in range(0, len(items), 25):
            batch = items[k : k + 25]
            prompts, images, answers = [], [], []
            for it in batch:
                prompt = trainer._prompt(
                    SFTExample(it.sample_id, question_text(it.question, it.eval_options), (it.image,), "")
                )
                for option in it.eval_options:
                    prompts.append(prompt)
                    images.append([it.image])
                    answers.append(option)
            enc = encode_prompts(vlm.processor, prompts, images, nested_images=vlm.nested_images).to(device)
            ids, mask = answer_token_ids(vlm.tokenizer, answers)
            scores = (response_logprobs(model, enc, ids.to(device)).cpu() * mask).sum(-1).view(len(batch), -1)
            correct += sum(
                it.eval_options[int(row.argmax())] == it.eval_answer
                for it, row in zip(batch, scores, strict=True)
            )
    model.train()
    return correct / len(items)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--world", choices=WORLDS, default="shape")
    parser.add_argument("--size", type=int, default=112, help="scene side in pixels (default 112)")
    parser.add_argument("--objects-per-colour", type=int, default=2)
    parser.add_argument("--side-fraction", default="0.14,0.22")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument(
        "--zoom", type=int, help="widen windows around the target to the full image over N steps"
    )
    parser.add_argument(
        "--objects", help="curriculum: 1, 2, ... objects until these steps, e.g. 400,900,1400"
    )
    parser.add_argument("--init", help="start from this model folder instead of a random tiny model")
    parser.add_argument("--seconds", type=float, default=300, help="training time budget (default 300)")
    parser.add_argument("--every", type=int, default=100, help="evaluate every N steps (default 100)")
    parser.add_argument("--val", type=int, default=200, help="held-out scenes (default 200)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    lo, hi = (float(v) for v in args.side_fraction.split(","))
    knobs = SharedColourKnobs(
        size=args.size, objects_per_colour=args.objects_per_colour, side_fraction=(lo, hi)
    )
    stages = [int(v) for v in args.objects.split(",")] if args.objects else []
    val = [make_item(args.world, 99, i, knobs) for i in range(args.val)]
    step = [0]

    def records():
        i = 0
        while True:
            s = step[0]
            if args.zoom and s < args.zoom:
                yield zoomed(7, i, s / args.zoom, knobs)
            elif any(s < u for u in stages):
                yield few_objects(7, i, 1 + next(k for k, u in enumerate(stages) if s < u), knobs)
            else:
                yield make_item(args.world, 7, i, knobs)
            i += 1

    with tempfile.TemporaryDirectory(prefix="vzero-learnability-") as tmp:
        config = SFTConfig(
            output_dir=str(Path(tmp) / "run"),
            model=args.init or "tiny:qwen2_5_vl",
            tiny={"hidden_size": args.hidden, "num_layers": args.layers, "image_size": args.size},
            inputs="full",
            steps=10**9,
            batch_size=args.batch_size,
            optim={"lr": args.lr},
            save_every=10**9,
            device=args.device,
        )
        trainer = SFTTrainer(config, records=records, resume=False)
        print(
            json.dumps({"world": args.world, "chance": 0.25, "start_accuracy": accuracy(trainer, val)}),
            flush=True,
        )
        t0, losses = time.perf_counter(), []
        while time.perf_counter() - t0 < args.seconds:
            losses.append(trainer.train_step()["loss/sft"])
            step[0] += 1
            if step[0] % args.every == 0:
                row = {
                    "step": step[0],
                    "examples": step[0] * args.batch_size,
                    "train_loss": round(float(np.mean(losses[-args.every :])), 4),
                    "val_accuracy": accuracy(trainer, val),
                    "seconds": round(time.perf_counter() - t0),
                }
                print(json.dumps(row), flush=True)
        shutil.rmtree(Path(tmp) / "run", ignore_errors=True)


if __name__ == "__main__":
    main()
