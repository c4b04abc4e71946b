"""HR-Bench as published: the TSV pandas writes (standard quoting), VLMEvalKit's every-field-quoted
rewrite, and its ``<name>_local.tsv`` with ``image_path``; each base question appears once per
option rotation (``cycle_category``)."""

import base64
import csv
import io

import pandas as pd
import pytest
from PIL import Image

from vzero_data.benchmarks import open_benchmark
from vzero_data.benchmarks.items import EvalDataError, EvalItem, Skipped


def _png(size=(16, 12)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "red").save(buf, format="PNG")
    return buf.getvalue()


def _b64(size=(16, 12)) -> str:
    return base64.b64encode(_png(size)).decode()


def rotations(index, question, options, answer_at, category):
    """The four rows HR-Bench holds for one base question: the options rotated once per cycle."""
    rows = []
    for cycle in range(len(options)):
        shown = options[cycle:] + options[:cycle]
        rows.append(
            {
                "index": index + cycle,
                "question": question,
                "answer": "ABCD"[shown.index(options[answer_at])],
                "category": category,
                "cycle_category": f"cycle{cycle + 1}",
                **dict(zip("ABCD", shown, strict=True)),
            }
        )
    return rows


def hrbench_frame() -> pd.DataFrame:
    rows = rotations(0, 'What colour is the "flag"?', ["blue", "green", "red", "white"], 2, "single")
    rows += rotations(100, "How many boats\nare moored?", ["2", "3", "4", "5"], 1, "cross")
    frame = pd.DataFrame(rows)
    frame.insert(1, "image", _b64())
    return frame


@pytest.mark.parametrize("quoting", [csv.QUOTE_MINIMAL, csv.QUOTE_ALL], ids=["pandas", "vlmevalkit-dump"])
def test_hrbench_tsv_as_published(tmp_path, quoting):
    tsv = tmp_path / "hr_bench_4k.tsv"
    hrbench_frame().to_csv(tsv, sep="\t", index=False, quoting=quoting)
    bench = open_benchmark(tsv)
    assert (bench.name, bench.format) == ("hr_bench_4k", "hrbench")
    items = [e for e in bench.items() if isinstance(e, EvalItem)]
    assert len(items) == 8
    flag = items[0]
    assert flag.question == 'What colour is the "flag"?' and flag.options == ("blue", "green", "red", "white")
    assert (flag.answer, flag.answer_text, flag.category) == ("C", "red", "single")
    assert items[4].question == "How many boats\nare moored?" and items[4].category == "cross"
    assert {i.metadata["rotation_group"] for i in items[:4]} != {
        i.metadata["rotation_group"] for i in items[4:]
    }
    assert len({i.metadata["rotation_group"] for i in items[:4]}) == 1
    assert [i.metadata["cycle_category"] for i in items[:4]] == ["cycle1", "cycle2", "cycle3", "cycle4"]
    assert all(i.answer_text == "red" for i in items[:4])
    assert flag.load_image().size == (16, 12)


def test_bad_rows_are_skipped_with_their_line(tmp_path):
    frame = hrbench_frame().iloc[:2].copy()
    frame.loc[1, "image"] = "not base64!" * 10
    tsv = tmp_path / "hr.tsv"
    frame.to_csv(tsv, sep="\t", index=False)
    entries = list(open_benchmark(tsv).items())
    skipped = {e.item_id: e.reason for e in entries if isinstance(e, Skipped)}
    assert "hr.tsv:3: column 'image' is not valid base64" in skipped["1"]


def test_image_cell_holding_another_rows_index_reuses_its_image(tmp_path):
    frame = hrbench_frame()
    frame.loc[1:3, "image"] = "0"  # VLMEvalKit stores a shared image once
    tsv = tmp_path / "hr.tsv"
    frame.to_csv(tsv, sep="\t", index=False)
    items = [e for e in open_benchmark(tsv).items() if isinstance(e, EvalItem)]
    assert len(items) == 8 and items[3].load_image().size == (16, 12)


@pytest.mark.parametrize("where", ["absolute", "next-to-tsv", "lmudata-images"])
def test_local_tsv_with_image_path(tmp_path, where):
    """VLMEvalKit's ``<name>_local.tsv`` (files over 1 GB): images decoded to files, ``image_path``
    instead of ``image``; its localizer writes absolute paths under ``images/<name>/``."""
    frame = hrbench_frame().drop(columns=["image"])
    folder = {
        "absolute": tmp_path / "elsewhere",
        "next-to-tsv": tmp_path,
        "lmudata-images": tmp_path / "images" / "hr_bench_8k",
    }[where]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "0.jpg").write_bytes(_png((20, 10)))
    frame["image_path"] = str(folder / "0.jpg") if where == "absolute" else "0.jpg"
    tsv = tmp_path / "hr_bench_8k_local.tsv"
    frame.to_csv(tsv, sep="\t", index=False, quoting=csv.QUOTE_ALL)
    items = [e for e in open_benchmark(tsv).items() if isinstance(e, EvalItem)]
    assert len(items) == 8 and items[0].load_image().size == (20, 10)


def test_hrbench_missing_columns_is_a_located_error(tmp_path):
    tsv = tmp_path / "x.tsv"
    pd.DataFrame({"index": [0], "question": ["q"]}).to_csv(tsv, sep="\t", index=False)
    with pytest.raises(
        EvalDataError, match=r"x\.tsv: not an HR-Bench TSV, missing columns \['answer', 'A', 'B'\]"
    ):
        list(open_benchmark(tsv).items())


def test_hrbench_rows_larger_than_csv_default_field_limit(tmp_path):
    import numpy as np

    csv.field_size_limit(131072)  # the default, which earlier reads in this process may have raised
    noise = np.random.default_rng(0).integers(0, 256, size=(300, 300, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, format="PNG")
    big = base64.b64encode(buf.getvalue()).decode()
    assert len(big) > 131072  # csv's default field size limit
    frame = hrbench_frame().iloc[:1].copy()
    frame["image"] = big
    frame.to_csv(tmp_path / "big.tsv", sep="\t", index=False)
    (item,) = list(open_benchmark(tmp_path / "big.tsv").items())
    assert item.load_image().size == (300, 300)
