import pytest
from PIL import Image

from vzero_train.evaluate.plot import plot_accuracy_vs_step


def _ckpt(label, step, acc):
    score = {"accuracy": acc, "ci_low": acc - 0.1, "ci_high": acc + 0.1}
    return {
        "label": label,
        "step": step,
        "average": acc,
        "benchmarks": {"a": {"overall": score}, "b": {"overall": score}},
    }


@pytest.mark.parametrize(
    "checkpoints",
    [
        [_ckpt("s40", 40, 0.6), _ckpt("s0", 0, 0.4), _ckpt("s20", 20, 0.5)],
        [_ckpt("base", None, 0.4), _ckpt("final", None, 0.5)],  # no steps: placed by order
    ],
)
def test_plot_writes_a_png(tmp_path, checkpoints):
    path = plot_accuracy_vs_step({"checkpoints": checkpoints}, tmp_path / "p.png")
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size[0] > 400


def test_step_ticks_are_whole_steps(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "close", figures.append)  # keep the figure to read its axis
    plot_accuracy_vs_step({"checkpoints": [_ckpt("s1", 1, 0.4), _ckpt("s2", 2, 0.5)]}, tmp_path / "p.png")
    ticks = [t for t in figures[0].axes[0].get_xticks() if 1 <= t <= 2]
    assert ticks and all(float(t).is_integer() for t in ticks), ticks
