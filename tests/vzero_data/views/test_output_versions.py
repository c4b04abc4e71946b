"""Each view strategy's output is pinned with its output version: changing a strategy's pixels or
boxes without bumping its ``output_version`` (which is in the config hash) fails here, because a
store would then mix old and new views under one hash.

When a change is intended: bump the strategy's ``output_version`` (``POSITIVE_OUTPUT_VERSION`` for
the positive crop) and put the new version and digest in ``PINNED``.
"""

import hashlib

import numpy as np
import pytest

from vzero_data.synth import make_scene
from vzero_data.views import InMemoryImagePool, negative_view, positive_view, view_seed
from vzero_data.views.crop_policy import CropPolicy
from vzero_data.views.positive import POSITIVE_OUTPUT_VERSION, POSITIVE_STRATEGY
from vzero_data.views.registry import NEGATIVE_STRATEGIES

# strategy -> (output_version, digest of its view of the scene below with default params)
PINNED = {
    POSITIVE_STRATEGY: (1, "752020f9e6651fc7"),
    "downsampled_distractor": (1, "e11de6091958d216"),
    "distractor": (1, "4fbce46173c51a51"),
    "masked": (1, "5bde574062a3b198"),
    "shuffled": (1, "a8eb31cd2e992f5f"),
    "cross_image": (1, "1efd4aff38ac13a3"),
    "degraded": (2, "fc1d1a8a0394bac3"),  # 2 changed only crops with sigma > 8 (PINNED_LARGE)
    "random_positive": (1, "7f7c1f8a08ea57b5"),
    "downsampled_view": (1, "3204dd1d62966c4b"),
}


def _digest(view) -> str:
    h = hashlib.sha256(f"{view.pixels.shape}|{view.box.to_list() if view.box else None}".encode())
    h.update(np.ascontiguousarray(view.pixels).data)
    return h.hexdigest()[:16]


def _views() -> dict[str, tuple[int, str]]:
    scene = make_scene(5, 0, 384)
    image, target = np.asarray(scene.image), scene.target.box
    others = [np.asarray(make_scene(5, i, 384).image) for i in (1, 2)]
    positive = positive_view(image, target, CropPolicy(margin_ratio=0.5), seed=view_seed("s", "crop", 0))
    out = {POSITIVE_STRATEGY: (POSITIVE_OUTPUT_VERSION, _digest(positive))}
    for name, strategy in NEGATIVE_STRATEGIES.items():
        view = negative_view(
            name,
            image,
            target,
            {},
            view_seed("s", name, 0),
            positive=positive,
            pool=InMemoryImagePool(others),
            image_sha256="scene-0",
        )
        out[name] = (strategy.output_version, _digest(view))
    return out


@pytest.fixture(scope="module")
def current() -> dict[str, tuple[int, str]]:
    return _views()


def test_every_registered_strategy_is_pinned(current):
    assert set(current) == set(PINNED)


@pytest.mark.parametrize("name", sorted(PINNED))
def test_a_strategy_output_changes_only_with_its_version(current, name):
    version, digest = current[name]
    pinned_version, pinned_digest = PINNED[name]
    if version == pinned_version:
        assert digest == pinned_digest, (
            f"{name}: its views changed ({pinned_digest} -> {digest}) but its output_version is still "
            f"{version}: bump it (it is part of the config hash) and update PINNED"
        )
    else:
        pytest.fail(f"{name}: output_version {pinned_version} -> {version}: pin the new digest {digest}")


# Views of a larger crop, for strategies whose code takes another path there: strategy ->
# (output_version, digest of its view of the demo-like crop below). degraded blurs a crop whose
# sigma exceeds DIRECT_SIGMA at a reduced scale (the crop above is too small for that).
PINNED_LARGE = {
    "degraded": (2, "c9943f1b9b0aaca6"),
}


def _large_views() -> dict[str, tuple[int, str]]:
    scene = make_scene(5, 0, 1024)
    image, target = np.asarray(scene.image), scene.target.box
    policy = CropPolicy(margin_ratio=0.5, upscale_min_pixels=65536)  # the demo recipe's crop
    positive = positive_view(image, target, policy, seed=view_seed("s", "crop", 0))
    out = {}
    for name in PINNED_LARGE:
        view = negative_view(name, image, target, {}, view_seed("s", name, 0), positive=positive)
        out[name] = (NEGATIVE_STRATEGIES[name].output_version, _digest(view))
    return out


@pytest.mark.parametrize("name", sorted(PINNED_LARGE))
def test_a_strategy_output_on_a_large_crop_changes_only_with_its_version(name):
    version, digest = _large_views()[name]
    pinned_version, pinned_digest = PINNED_LARGE[name]
    assert (version, digest) == (pinned_version, pinned_digest), (
        f"{name}: large-crop view {pinned_version}/{pinned_digest} -> {version}/{digest}: bump its "
        "output_version when its views change, and pin the new digest here"
    )


# grounder -> (output_version, boxes and scores it returns for the sample below)
PINNED_GROUNDERS = {
    "annotated": (1, [([10.0, 20.0, 30.0, 44.5], 1.0), ([0.0, 0.0, 5.0, 5.0], 1.0)]),
}


@pytest.mark.parametrize("name", sorted(PINNED_GROUNDERS))
def test_a_grounder_output_changes_only_with_its_version(name):
    """Model grounders need weights; their versions are bumped by hand with any change to their
    pre- or post-processing. The annotated grounder is pinned here."""
    from PIL import Image

    from vzero_core.boxes import Box
    from vzero_core.sample import Sample
    from vzero_data.grounding import get_grounder
    from vzero_data.grounding.registry import grounder_class

    sample = Sample(
        sample_id="s",
        image="sha256:x",
        image_sha256="x",
        width=64,
        height=48,
        question="Where is it?",
        boxes=(Box(10, 20, 30, 44.5), Box(-3, -3, 5, 5)),
    )
    [regions] = get_grounder(name).locate([Image.new("RGB", (64, 48))], ["it"], samples=[sample])
    got = [(r.box.to_list(), r.score) for r in regions]
    version = grounder_class(name).output_version
    pinned_version, pinned = PINNED_GROUNDERS[name]
    assert version == pinned_version, f"{name}: output_version {pinned_version} -> {version}: pin {got}"
    assert got == pinned, f"{name}: its boxes changed but its output_version is still {version}: bump it"
