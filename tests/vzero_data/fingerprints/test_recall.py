"""Recall and false-positive rate per transformation, measured on pictures made here (the table in
docs/near-duplicates.md comes from this test: ``pytest -s -m e2e tests/vzero_data/fingerprints/test_recall.py``).

Benchmark side: procedural photos (1123x791, and 2246x1582 for region crops) and synthetic clutter
scenes (768 px). Each transformation makes one copy of every benchmark picture; a copy is found when
it is matched to its own original. The unrelated set (other photos and scenes from the same
generators: same colours and layout) must match nothing; a copy matched to another original counts
as a false positive too.
"""

import numpy as np
import pytest

from tests import near_duplicates as nd
from vzero_data.fingerprints.compute import (
    BENCHMARK_FEATURES,
    BENCHMARK_MAX_SIDE,
    CROP_FEATURES,
    fingerprint,
    grey,
)
from vzero_data.fingerprints.search import Picture, find_matches

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1200)]

N = 12  # pictures per family
N_BIG = 8


def pic(key, rgb, features=500, max_side=1024):
    gray = grey(rgb)
    return Picture(key, fingerprint(rgb, features=features, max_side=max_side), lambda: gray)


def _scene_target(seed, index, size=768):
    from vzero_data.synth import make_scene

    s = make_scene(seed, index, size)
    return np.asarray(s.image.convert("RGB")), s.target.box.center


REGION_PHOTO = "region crop: 512 px of 2246x1582 -> 336 px"
REGION_SCENE = "region crop: 256 px round the target -> 336 px"
IN_SCOPE = {
    "resize 0.5x": lambda im, rng, _: nd.resized(im, 0.5),
    "resize 2x": lambda im, rng, _: nd.resized(im, 2.0),
    "JPEG quality 60": lambda im, rng, _: nd.jpeg(im, 60),
    "crop 5-10%": lambda im, rng, _: nd.cropped(im, rng.uniform(0.05, 0.10), rng),
    "colour jitter": lambda im, rng, _: nd.jittered(im, rng),
}
OUT_OF_SCOPE = {
    "horizontal flip": lambda im, rng, _: nd.flipped(im),
    "rotation 20 degrees": lambda im, rng, _: np.asarray(
        __import__("PIL.Image").Image.fromarray(im).rotate(20, expand=False)
    ),
}


@pytest.fixture(scope="module")
def table():
    photos = [nd.photo(s) for s in range(N)]
    scenes = [_scene_target(21, i) for i in range(N)]
    big = [nd.photo(500 + s, nd.REGION_SOURCE_SIZE) for s in range(N_BIG)]
    originals = (
        [("photo", i, im) for i, im in enumerate(photos)]
        + [("scene", i, im) for i, (im, _) in enumerate(scenes)]
        + [("big photo", i, im) for i, im in enumerate(big)]
    )
    targets = [pic((f, i), im, BENCHMARK_FEATURES, BENCHMARK_MAX_SIDE) for f, i, im in originals]
    rng = np.random.default_rng(2026)
    queries: list[tuple[str, str, Picture]] = []  # (transformation, family, picture)
    for name, make in {**IN_SCOPE, **OUT_OF_SCOPE}.items():
        for f, i, im in originals[: 2 * N]:
            queries.append((name, f, pic((f, i), make(im, rng, None))))
    for f, i, im in originals[2 * N :]:
        crop, _ = nd.region_crop(im, rng)
        queries.append((REGION_PHOTO, "photo", pic((f, i), crop, CROP_FEATURES)))
        queries.append((REGION_PHOTO + ", JPEG 60", "photo", pic((f, i), nd.jpeg(crop), CROP_FEATURES)))
    for i, (im, centre) in enumerate(scenes):
        crop, _ = nd.region_crop(im, rng, window=256, centre=centre)
        queries.append((REGION_SCENE, "scene", pic(("scene", i), crop, CROP_FEATURES)))
        queries.append((REGION_SCENE + ", JPEG 60", "scene", pic(("scene", i), nd.jpeg(crop), CROP_FEATURES)))
    unrelated = [("unrelated", "photo", pic(("none", s), nd.photo(1000 + s))) for s in range(N)]
    unrelated += [("unrelated", "scene", pic(("none", i), _scene_target(77, i)[0])) for i in range(N)]
    queries += unrelated
    pictures = [q for _, _, q in queries]
    matches = find_matches(pictures, targets)
    hits: dict[int, set] = {}
    for m in matches:
        hits.setdefault(m.query, set()).add(targets[m.target].key)
    rows: dict[tuple[str, str], list[int]] = {}
    for qi, (name, family, q) in enumerate(queries):
        own = hits.get(qi, set())
        found = int(q.key in own)
        wrong = int(bool(own - {q.key}))
        counts = rows.setdefault((name, family), [0, 0, 0])
        counts[0] += 1
        counts[1] += found
        counts[2] += wrong
    return rows


def _markdown(rows):
    lines = ["| transformation | pictures | n | recall | false positives |", "|---|---|---|---|---|"]
    for (name, family), (n, found, wrong) in rows.items():
        recall = "-" if name == "unrelated" else f"{found / n:.2f}"
        lines.append(f"| {name} | {family} | {n} | {recall} | {wrong / n:.3f} |")
    return "\n".join(lines)


def test_print_the_table(table):
    print("\n" + _markdown(table))


@pytest.mark.parametrize("name", list(IN_SCOPE))
def test_in_scope_transformations_are_found(table, name):
    for family in ("photo", "scene"):
        n, found, wrong = table[(name, family)]
        assert found / n >= 0.95, (name, family, found, n)
        assert wrong == 0


@pytest.mark.parametrize("name, family", [(REGION_PHOTO, "photo"), (REGION_SCENE, "scene")])
def test_region_crops_are_found(table, name, family):
    """Photos 12/12 (1.00); scenes 11/12 (0.92): a crop holding one or two flat shapes can lack the
    three consistent keypoint matches a placement needs."""
    n, found, wrong = table[(name, family)]
    assert found / n >= 0.9 and wrong == 0, (found, n, wrong)


@pytest.mark.parametrize("name, family", [(REGION_PHOTO, "photo"), (REGION_SCENE, "scene")])
def test_re_encoded_region_crops_are_mostly_found(table, name, family):
    """Below the 0.95 target (docs/near-duplicates.md says so): JPEG blocks move ORB keypoints on
    small, smooth crops."""
    n, found, wrong = table[(name + ", JPEG 60", family)]
    assert found / n >= 0.4 and wrong == 0, (found, n, wrong)


def test_unrelated_pictures_match_nothing(table):
    for family in ("photo", "scene"):
        n, _, wrong = table[("unrelated", family)]
        assert wrong / n <= 0.01
