import base64
import io

import pytest
from PIL import Image

from vzero_train.evaluate.adapters import open_benchmark
from vzero_train.evaluate.items import EvalDataError, EvalItem, Skipped

HEADER = ["index", "question", "answer", "category", "cycle_category", "A", "B", "C", "D", "image"]


def _png_b64(size=(16, 12)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", size, "red").save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _write(path, rows, header=HEADER):
    path.write_text("\n".join("\t".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def test_hrbench_tsv_rows_become_items(tmp_path):
    img = _png_b64()
    tsv = _write(
        tmp_path / "hr_bench_4k.tsv",
        [
            ["0", "What colour is the flag?", "C", "FSP", "0", "blue", "green", "red", "white", img],
            ["1", "How many boats?", "b", "FCP", "1", "2", "3", "", "", img],
            ["2", "Broken image?", "A", "FSP", "2", "x", "y", "z", "w", "not base64!"],
            ["3", "Out of range?", "D", "FSP", "3", "x", "y", "", "", img],
        ],
    )
    bench = open_benchmark(tsv)
    assert (bench.name, bench.format) == ("hr_bench_4k", "hrbench")
    entries = list(bench.items())
    items = [e for e in entries if isinstance(e, EvalItem)]
    assert [(i.item_id, i.answer, i.answer_text, i.category) for i in items] == [
        ("0", "C", "red", "FSP"),
        ("1", "B", "3", "FCP"),
    ]
    assert items[1].options == ("2", "3")
    assert items[0].metadata == {"cycle_category": "0"}
    assert items[0].load_image().size == (16, 12)
    skipped = {e.item_id: e.reason for e in entries if isinstance(e, Skipped)}
    assert "hr_bench_4k.tsv:4: column 'image' is not valid base64" in skipped["2"]
    assert "answer 'D' is not one of the option letters A, B" in skipped["3"]


def test_hrbench_missing_columns_is_a_located_error(tmp_path):
    tsv = _write(tmp_path / "x.tsv", [["0", "q"]], header=["index", "question"])
    with pytest.raises(
        EvalDataError, match=r"x\.tsv: not an HR-Bench TSV, missing columns \['image', 'answer', 'A', 'B'\]"
    ):
        list(open_benchmark(tsv).items())


def test_hrbench_rows_larger_than_csv_default_field_limit(tmp_path):
    import csv

    import numpy as np

    csv.field_size_limit(131072)  # the default, which earlier reads in this process may have raised
    noise = np.random.default_rng(0).integers(0, 256, size=(300, 300, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG")
    big = base64.b64encode(buf.getvalue()).decode()
    assert len(big) > 131072  # csv's default field size limit
    tsv = _write(tmp_path / "big.tsv", [["0", "Q?", "A", "FSP", "0", "x", "y", "z", "w", big]])
    (item,) = list(open_benchmark(tsv).items())
    assert item.load_image().size == (300, 300)
