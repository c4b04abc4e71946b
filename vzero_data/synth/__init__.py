"""Synthetic fine-grained scenes with exact boxes: vzero's embedded data set and the sandbox's worlds.

Worlds: ``clutter`` (:mod:`.clutter`, the default: many small shapes, a target of unique colour) and
``shared_colour`` (:mod:`.shared_colour`: every option colour on several objects, the target named by
shape) and ``big_small`` (:mod:`.big_small`: a big target and a small distractor in two quadrants,
the world a tiny student learns from full images). :func:`write_scenes` writes a set as PNGs plus a JSONL manifest (:mod:`.manifest`);
:mod:`.shortcut` measures how far counting colours answers without finding the target.
"""

from vzero_data.synth.big_small import WORLD_NAME as BIG_SMALL_WORLD
from vzero_data.synth.big_small import BigSmallKnobs, make_big_small_scene
from vzero_data.synth.clutter import WORLD_NAME as CLUTTER_WORLD
from vzero_data.synth.clutter import make_scene
from vzero_data.synth.manifest import (
    IMAGES_DIRNAME,
    MANIFEST_NAME,
    SOURCE_NAME,
    WORLDS,
    read_manifest,
    scene_record,
    summarize,
    write_scenes,
)
from vzero_data.synth.scene import PALETTE, SHAPES, Scene, SceneObject, region_name
from vzero_data.synth.shared_colour import WORLD_NAME as SHARED_COLOUR_WORLD
from vzero_data.synth.shared_colour import SharedColourKnobs, make_shared_colour_scene
from vzero_data.synth.shortcut import rarest_colour_accuracy, rarest_colour_choice

__all__ = [
    "BIG_SMALL_WORLD",
    "BigSmallKnobs",
    "WORLDS",
    "make_big_small_scene",
    "CLUTTER_WORLD",
    "IMAGES_DIRNAME",
    "MANIFEST_NAME",
    "PALETTE",
    "SHAPES",
    "SHARED_COLOUR_WORLD",
    "SOURCE_NAME",
    "Scene",
    "SceneObject",
    "SharedColourKnobs",
    "make_scene",
    "make_shared_colour_scene",
    "rarest_colour_accuracy",
    "rarest_colour_choice",
    "read_manifest",
    "region_name",
    "scene_record",
    "summarize",
    "write_scenes",
]
