import pytest

from vzero_data.views import view_seed
from vzero_data.views.seeds import attempt_rng


def test_view_seed_is_stable_and_distinguishes_its_inputs():
    base = view_seed("abc", "masked", 0)
    assert base == view_seed("abc", "masked", 0)
    assert 0 <= base < 2**63
    assert (
        len(
            {
                base,
                view_seed("abd", "masked", 0),
                view_seed("abc", "shuffled", 0),
                view_seed("abc", "masked", 1),
            }
        )
        == 4
    )


@pytest.mark.parametrize("seed", [-1, 1.5, "3", True])
def test_bad_seeds_are_refused(seed):
    with pytest.raises(ValueError, match="non-negative integer"):
        attempt_rng(seed)
