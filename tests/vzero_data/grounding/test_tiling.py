import numpy as np
import pytest
from PIL import Image

from vzero_core.boxes import Box
from vzero_data.grounding import GrounderOptions, ModelGrounder, Region, TiledGrounder, TilingConfig
from vzero_data.grounding.region import regions_from_xyxy
from vzero_data.grounding.tiling import is_cut_by_tile, needs_tiling, nms, plan_views, tile_windows

RED = (230, 20, 20)


class ColorDetector(ModelGrounder):
    """A stand-in detector with a real detector's weakness: it sees its input downscaled (area
    averaging) to ``INPUT_SIDE`` pixels and finds only pixels of a pure target colour, so a target
    that shrinks below a pixel blends into the background and is missed."""

    name = "color-detector"
    INPUT_SIDE = 256

    def _load(self) -> None:
        self.batches = []

    def _prepare(self, images, phrases):
        prepared = []
        for image in images:
            scale = self.INPUT_SIDE / max(image.size)
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            prepared.append((np.asarray(image.resize(size, Image.BOX), dtype=np.int16), scale))
        return prepared

    def _forward(self, prepared):
        self.batches.append(len(prepared))
        found = []
        for pixels, scale in prepared:
            ys, xs = np.nonzero(np.abs(pixels - RED).max(axis=2) <= 30)
            if not len(xs):
                found.append([])
                continue
            found.append(
                [[xs.min() / scale, ys.min() / scale, (xs.max() + 1) / scale, (ys.max() + 1) / scale]]
            )
        return found

    def _postprocess(self, outputs, prepared, images, phrases):
        return [
            regions_from_xyxy(boxes, [1.0] * len(boxes), phrase, im.width, im.height, self.provenance)
            for boxes, im, phrase in zip(outputs, images, phrases, strict=True)
        ]


def scene(width, height, target):
    rng = np.random.default_rng(0)
    pixels = rng.integers(90, 170, (height, width, 3), dtype=np.uint8)
    x1, y1, x2, y2 = target
    pixels[y1:y2, x1:x2] = RED
    return Image.fromarray(pixels)


TARGET = (3001, 1203, 3013, 1215)  # 12 px in a 4096 x 3072 image: 0.75 px after a 16x downscale


@pytest.mark.parametrize("mode, found", [("off", False), ("auto", True), ("always", True)])
def test_tiling_finds_a_small_target_a_downscaled_pass_misses(mode, found):
    image = scene(4096, 3072, TARGET)
    detector = ColorDetector(GrounderOptions(model="fake", device="cpu", tiling=TilingConfig(mode=mode)))
    (regions,) = detector.locate([image], ["red square"])
    if not found:
        assert regions == []
        return
    assert regions[0].box.iou(Box(*TARGET)) > 0.7
    assert regions[0].provenance["tile"] is not None
    assert len(regions) == 1, "the copies from overlapping tiles are merged"


def test_tiled_grounder_wraps_any_grounder():
    image = scene(4096, 3072, TARGET)
    plain = ColorDetector(GrounderOptions(model="fake", device="cpu", tiling=TilingConfig(mode="off")))
    tiled = TiledGrounder(plain, TilingConfig(mode="auto"))
    (regions,) = tiled.locate([image], ["red square"])
    assert regions[0].box.iou(Box(*TARGET)) > 0.7
    assert tiled.provenance["tiling"]["mode"] == "auto" and tiled.device == "cpu"


def test_batches_tiles_and_counts_time():
    images = [
        scene(300, 200, (10, 10, 30, 30)),
        scene(2100, 900, (1000, 400, 1040, 440)),
        scene(64, 64, (1, 1, 9, 9)),
    ]
    detector = ColorDetector(GrounderOptions(model="fake", device="cpu", batch_size=2, progress=False))
    results = detector.locate(images, ["red"] * 3)
    assert [len(r) for r in results] == [1, 1, 1]
    views = 1 + len(plan_views(2100, 900, detector.options.tiling)) + 1
    assert sum(detector.batches) == views and max(detector.batches) <= 2
    assert detector.timings.images == 3 and detector.timings.model_inputs == views
    assert 0 < detector.timings.forward_s <= detector.timings.total_s


@pytest.mark.parametrize(
    "width, height, tile, overlap, expected_x, expected_y",
    [
        (1000, 800, 1024, 0.25, [0], [0]),
        (2048, 1024, 1024, 0.25, [0, 512, 1024], [0]),
        (3000, 1024, 1024, 0.25, [0, 659, 1317, 1976], [0]),
        (2000, 1500, 1024, 0.5, [0, 488, 976], [0, 476]),
    ],
)
def test_tile_windows_cover_the_image_with_overlap(width, height, tile, overlap, expected_x, expected_y):
    windows = tile_windows(width, height, tile, overlap)
    assert sorted({w.x1 for w in windows}) == expected_x
    assert sorted({w.y1 for w in windows}) == expected_y
    assert max(w.x2 for w in windows) == width and max(w.y2 for w in windows) == height
    xs = sorted({w.x1 for w in windows})
    assert all(b - a <= tile * (1 - overlap) for a, b in zip(xs, xs[1:], strict=False))


@pytest.mark.parametrize(
    "size, config, expected",
    [
        ((1920, 1080), TilingConfig(), False),
        ((3840, 2160), TilingConfig(), True),
        ((7680, 4320), TilingConfig(mode="off"), False),
        ((1500, 900), TilingConfig(mode="always"), True),
        ((1000, 900), TilingConfig(mode="always"), False),  # fits in one tile
    ],
)
def test_tiling_is_on_by_a_size_threshold(size, config, expected):
    assert needs_tiling(*size, config) is expected


def test_plan_views_include_the_whole_image_first():
    views = plan_views(4096, 2048, TilingConfig())
    assert views[0] is None and all(isinstance(v, Box) for v in views[1:])
    assert None not in plan_views(4096, 2048, TilingConfig(include_full_image=False))


@pytest.mark.parametrize(
    "box, expected",
    [
        ([1100, 1100, 1200, 1200], False),  # well inside the tile
        ([1024, 1100, 1100, 1200], True),  # on the interior left edge
        ([1900, 1100, 2048, 1200], True),  # on the interior right edge
        ([3000, 1100, 3072, 1200], False),  # tile [2048..3072] ends at the image edge
    ],
)
def test_boxes_cut_by_an_interior_tile_edge(box, expected):
    tile = Box(1024, 1024, 2048, 2048) if box[0] < 2048 else Box(2048, 1024, 3072, 2048)
    assert is_cut_by_tile(Box(*box), tile, 3072, 3072, margin=2) is expected


def test_nms_keeps_the_best_of_overlapping_boxes():
    regions = [
        Region(Box(0, 0, 10, 10), 0.5, "a"),
        Region(Box(1, 1, 10, 10), 0.9, "a"),
        Region(Box(50, 50, 60, 60), 0.0, "a"),
    ]
    assert [(r.score, r.box.x1) for r in nms(regions, 0.5)] == [(0.9, 1.0), (0.0, 50.0)]
    assert nms([], 0.5) == []
