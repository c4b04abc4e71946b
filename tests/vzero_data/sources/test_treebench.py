import base64

import pyarrow as pa
import pyarrow.parquet as pq

from tests.vzero_data.sources.conftest import png_bytes, read_all


def test_treebench_parquet(tmp_path):
    img = base64.b64encode(png_bytes((64, 48))).decode()
    table = pa.table(
        {
            "index": [7, 8, 9, 10],
            "image": [img, img, "!!not base64!!", img],
            "question": ["What is left of the lamp?", "Which color?", "q?", "Boxes as text?"],
            "multi-choice options": ['["A. chair", "B. table"]', "A. red\nB. blue", None, None],
            "answer": ["A", "B", "A", "A"],
            "category": ["spatial", "attribute", "x", "y"],
            "target_instances": [
                [[1.0, 2.0, 30.0, 40.0]],
                [[0.0, 0.0, 8.0, 8.0], [10.0, 10.0, 20.0, 20.0]],
                None,
                None,
            ],
        }
    )
    src = tmp_path / "treebench.parquet"
    pq.write_table(table, src)
    samples, rejects = read_all("treebench", src)
    a, b = (i.sample for i in samples[:2])
    assert (a.width, a.height) == (64, 48) and a.image.startswith("sha256:")
    assert (
        a.options == ("A. chair", "B. table") and a.answer == "A" and a.boxes[0].to_list() == [1, 2, 30, 40]
    )
    assert a.metadata == {"category": "spatial", "source_id": "7"}
    assert b.options == ("A. red", "B. blue") and len(b.boxes) == 2
    assert (
        [r.reason for r in rejects] == ["bad_field"]
        and rejects[0].key == "9"
        and "row 2" in rejects[0].detail
    )
    assert len(samples) == 3


def test_treebench_boxes_as_json_text(tmp_path):
    src = tmp_path / "t.parquet"
    pq.write_table(
        pa.table(
            {
                "image": [base64.b64encode(png_bytes()).decode()],
                "question": ["q?"],
                "target_instances": ["[[1, 1, 5, 5]]"],
            }
        ),
        src,
    )
    samples, _ = read_all("treebench", src)
    assert samples[0].sample.boxes[0].to_list() == [1, 1, 5, 5]
