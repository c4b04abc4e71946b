import json

import pytest
from PIL import Image

from vzero_data import benchmarks as adapters
from vzero_data.benchmarks import detect_format, get_adapter, open_benchmark, register_adapter
from vzero_data.benchmarks.items import EvalDataError, EvalItem, image_from_file
from vzero_data.store import open_store


@pytest.fixture
def layouts(tmp_path):
    open_store(tmp_path / "store", create=True)
    (tmp_path / "vstar" / "direct_attributes").mkdir(parents=True)
    (tmp_path / "vstar" / "direct_attributes" / "1.json").write_text("{}")
    (tmp_path / "synth").mkdir()
    (tmp_path / "synth" / "manifest.jsonl").write_text("")
    for name in ("hr_bench_8k.tsv", "MME_RealWorld.json", "set.jsonl", "notes.txt"):
        (tmp_path / name).write_text("")
    return tmp_path


@pytest.mark.parametrize(
    "relpath, fmt",
    [
        ("store", "store"),
        ("vstar", "vstar"),
        ("synth", "synthetic"),
        ("synth/manifest.jsonl", "synthetic"),
        ("set.jsonl", "synthetic"),
        ("hr_bench_8k.tsv", "hrbench"),
        ("MME_RealWorld.json", "mme_realworld"),
    ],
)
def test_detect_format(layouts, relpath, fmt):
    assert detect_format(layouts / relpath) == fmt


@pytest.mark.parametrize(
    "relpath, fmt, message",
    [
        ("notes.txt", None, "cannot tell its benchmark format; pass --format"),
        ("absent", None, "benchmark source not found"),
        (
            "notes.txt",
            "coco",
            "unknown benchmark format 'coco'; known: hrbench, mme_realworld, mme_realworld_lite, store, synthetic, treebench, visualprobe, vstar, zoombench",
        ),
    ],
)
def test_open_benchmark_errors(layouts, relpath, fmt, message):
    with pytest.raises(EvalDataError, match=message):
        open_benchmark(layouts / relpath, fmt)


def test_benchmark_names(layouts):
    assert open_benchmark(layouts / "synth" / "manifest.jsonl").name == "synth"
    assert open_benchmark(layouts / "hr_bench_8k.tsv").name == "hr_bench_8k"
    assert open_benchmark(layouts / "hr_bench_8k.tsv", name="HR-8K").name == "HR-8K"


def test_a_plugin_adapter_in_one_function(tmp_path, monkeypatch):
    monkeypatch.setattr(adapters, "_REGISTRY", dict(adapters._REGISTRY))
    Image.new("RGB", (3, 3)).save(tmp_path / "img.png")
    (tmp_path / "qa.pairs").write_text(json.dumps({"q": "Colour?", "a": "black"}))

    @register_adapter("pairs", detect=lambda p: p.suffix == ".pairs", description="test layout")
    def read_pairs(src, *, benchmark, image_root=None):
        row = json.loads(src.read_text())
        yield EvalItem("0", benchmark, row["q"], row["a"], image_from_file(src.with_name("img.png")))

    assert get_adapter("pairs").description == "test layout"
    (item,) = list(open_benchmark(tmp_path / "qa.pairs").items())
    assert (item.benchmark, item.answer) == ("qa", "black")
