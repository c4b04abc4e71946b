import cv2
import numpy as np
import pytest
from PIL import Image

from vzero_data.views import InMemoryImagePool, PathImagePool, pool_from_paths
from vzero_data.views.pool import PREFETCH_AFTER_DRAWS, file_sha256, spaced_selection

from .conftest import noise_image


def test_in_memory_pool_never_returns_the_excluded_image():
    pool = InMemoryImagePool({"a": noise_image(8, 8, 1), "b": noise_image(8, 8, 2)})
    rng = np.random.default_rng(0)
    assert {pool.sample_other("a", rng)[0] for _ in range(20)} == {"b"}
    with pytest.raises(LookupError, match="no image other than a"):
        InMemoryImagePool({"a": noise_image(8, 8, 1)}).sample_other("a", rng)


def test_path_pool_keys_by_file_hash_and_ignores_listing_order(tmp_path):
    paths = []
    for i in range(4):
        p = tmp_path / f"img{i}.png"
        Image.fromarray(noise_image(12, 10, i)).save(p)
        paths.append(p)
    own = file_sha256(paths[0])
    draws = []
    for order in (paths, paths[::-1]):
        pool = PathImagePool(order)
        rng = np.random.default_rng(3)
        draws.append([pool.sample_other(own, rng)[0] for _ in range(30)])
    assert draws[0] == draws[1]
    assert own not in draws[0] and len(set(draws[0])) == 3
    sha, pixels = PathImagePool(paths[1:2]).sample_other(own, np.random.default_rng(0))
    assert sha == file_sha256(paths[1]) and np.array_equal(pixels, noise_image(12, 10, 1))
    assert len(pool_from_paths(tmp_path)) == 4


def test_unreadable_pool_image_names_the_file(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(ValueError, match="bad.png: cannot read"):
        PathImagePool([bad]).sample_other(None, np.random.default_rng(0))


@pytest.mark.parametrize(
    "n, count, expected",
    [
        (3, 5, [0, 1, 2]),
        (10, 5, [0, 2, 4, 6, 8]),
        (10, 3, [0, 3, 6]),
        (4, 1, [0]),
    ],
)
def test_spaced_selection(n, count, expected):
    items = [f"p{i:02d}" for i in range(n)]
    assert spaced_selection(items, count) == [items[i] for i in expected]


def test_path_pool_keeps_a_bounded_downscaled_selection(tmp_path):
    paths = []
    for i in range(6):
        p = tmp_path / f"img{i}.png"
        Image.fromarray(noise_image(80, 40, i)).save(p)  # 80 wide, 40 high
        paths.append(p)
    pool = PathImagePool(paths, max_images=3, max_side=20)
    assert len(pool) == 3
    rng = np.random.default_rng(0)
    drawn = {pool.sample_other(None, rng)[0]: pool.sample_other(None, rng)[1].shape for _ in range(30)}
    assert set(drawn) <= {file_sha256(paths[i]) for i in (0, 2, 4)}
    assert set(drawn.values()) == {(10, 20, 3)}
    _, pixels = PathImagePool(paths[:1], max_side=20).sample_other(None, rng)
    assert np.array_equal(pixels, cv2.resize(noise_image(80, 40, 0), (20, 10), interpolation=cv2.INTER_AREA))


def _counting_decodes(monkeypatch):
    """Count the pool's decodes per file (the pool module's decode_rgb, wrapped)."""
    from collections import Counter

    from vzero_data.views import pool as pool_module

    counts: Counter[str] = Counter()
    real = pool_module.decode_rgb

    def counted(data, what="image", **kw):
        counts[what] += 1
        return real(data, what, **kw)

    monkeypatch.setattr(pool_module, "decode_rgb", counted)
    return counts


def _join_prefetch():
    import threading

    for thread in threading.enumerate():
        if thread.name == "vzero-pool-prefetch":
            thread.join(timeout=30)


def _noise_files(tmp_path, n):
    paths = []
    for i in range(n):
        p = tmp_path / f"img{i:02d}.png"
        Image.fromarray(noise_image(24, 16, i)).save(p)
        paths.append(p)
    return paths


@pytest.mark.parametrize(
    "draws, decoded_all",
    [
        (PREFETCH_AFTER_DRAWS - 1, False),  # a short run decodes only what it draws
        (PREFETCH_AFTER_DRAWS, True),  # a longer one decodes the rest ahead
        (3 * PREFETCH_AFTER_DRAWS, True),
    ],
)
def test_path_pool_decodes_each_file_once_and_prefetches_the_rest_after_enough_draws(
    tmp_path, monkeypatch, draws, decoded_all
):
    paths = _noise_files(tmp_path, 24)
    counts = _counting_decodes(monkeypatch)
    pool, rng = PathImagePool(paths), np.random.default_rng(5)
    drawn = [pool.sample_other(None, rng) for _ in range(draws)]
    _join_prefetch()
    assert max(counts.values()) == 1  # never twice, whichever thread decoded it
    assert (len(counts) == len(paths)) is decoded_all
    # what a draw returns does not depend on prefetching: a fresh pool, same seed, same draws
    monkeypatch.setattr("vzero_data.views.pool.PREFETCH_AFTER_DRAWS", 10**9)
    fresh, rng = PathImagePool(paths), np.random.default_rng(5)
    for sha, pixels in drawn:
        other_sha, other = fresh.sample_other(None, rng)
        assert sha == other_sha and np.array_equal(pixels, other)


def test_prefetch_skips_an_unreadable_file_and_the_draw_that_picks_it_names_it(tmp_path):
    paths = _noise_files(tmp_path, 3)
    bad = tmp_path / "img99.png"
    bad.write_bytes(b"not an image")
    pool, rng = PathImagePool([*paths, bad]), np.random.default_rng(0)
    with pytest.raises(ValueError, match="img99.png: cannot read"):
        for _ in range(10 * PREFETCH_AFTER_DRAWS):
            pool.sample_other(None, rng)
    _join_prefetch()
