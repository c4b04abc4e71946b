from types import SimpleNamespace

import pytest

from vzero_train.setup import make_accelerator


@pytest.mark.parametrize(
    "first, second",
    [("bf16", "no"), ("no", "bf16"), ("bf16", "bf16")],
)
def test_a_second_run_in_one_session_gets_its_own_precision(first, second):
    """A notebook that trains twice, or a script that trains then evaluates, must not be refused by
    accelerate's process-wide state when the second run asks for another mixed precision."""
    chosen = []
    for precision in (first, second):
        config = SimpleNamespace(mixed_precision=precision, device="cpu", ddp_find_unused_parameters=False)
        chosen.append(make_accelerator(config).mixed_precision)
    assert chosen == [first, second]
