import pytest

from tests.vzero_data.sources.conftest import read_all
from vzero_data.sources import SourceError


def test_csv_rows_with_json_and_pipe_lists(tmp_path, images):
    src = tmp_path / "items.csv"
    src.write_text(
        "id,image,question,answer,options,bbox,note\n"
        'r1,a.png,What color?,red,"[""red"", ""blue""]","[1, 2, 11, 12]",keep me\n'
        "r2,sub/b.png,Which one?,,left|right,,\n"
    )
    samples, rejects = read_all("csv", src, image_root=images)
    assert rejects == []
    a, b = (i.sample for i in samples)
    assert a.options == ("red", "blue") and a.boxes[0].to_list() == [1, 2, 11, 12]
    assert a.metadata == {"note": "keep me", "source_id": "r1"}
    assert b.options == ("left", "right") and b.answer is None and b.boxes == ()


@pytest.mark.parametrize(
    "body, reason",
    [
        ("a.png,q?,[1 2 3 4]\n", "bad_field"),
        ("a.png,q?,[1,2,3,4],extra\n", "malformed_row"),
    ],
)
def test_bad_csv_rows_are_located(tmp_path, images, body, reason):
    src = tmp_path / "items.csv"
    src.write_text("image,question,bbox\n" + body)
    samples, rejects = read_all("csv", src, image_root=images)
    assert [r.reason for r in rejects] == [reason] and f"{src}:2" in rejects[0].detail


def test_empty_csv_is_an_error(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(SourceError, match="no header row"):
        read_all("csv", tmp_path / "e.csv")


def test_csv_written_by_pandas_with_list_cells_and_quoted_multiline_text(tmp_path, images):
    """pandas writes list cells as Python reprs (``['rubber', 'cotton']``), quotes a cell holding a
    comma, a quote or a line break, and doubles quotes inside it."""
    import pandas as pd

    src = tmp_path / "items.csv"
    pd.DataFrame(
        {
            "id": ["r1", "r2"],
            "image": ["a.png", "sub/b.png"],
            "question": ['What is the "glove" made of,\nexactly?', "Which one?"],
            "answer": ["rubber", "left"],
            "options": [["rubber", "cotton"], ["left", "it's right"]],
            "bbox": [[1.0, 2.0, 11.0, 12.0], [[0, 0, 5, 5], [6, 6, 9, 9]]],
        }
    ).to_csv(src, index=False)
    assert "['rubber', 'cotton']" in src.read_text()
    samples, rejects = read_all("csv", src, image_root=images)
    assert rejects == []
    a, b = (i.sample for i in samples)
    assert a.question == 'What is the "glove" made of,\nexactly?' and a.options == ("rubber", "cotton")
    assert (
        a.boxes[0].to_list() == [1, 2, 11, 12] and b.options == ("left", "it's right") and len(b.boxes) == 2
    )
    assert samples[1].where.endswith(":4")  # the record's first line (the first record spans lines 2-3)


def test_python_literal_cells_are_never_executed(tmp_path, images):
    src = tmp_path / "items.csv"
    src.write_text("image,question,options\na.png,q?,\"[__import__('os').getcwd()]\"\n")
    samples, rejects = read_all("csv", src, image_root=images)
    assert samples == [] and [r.reason for r in rejects] == ["bad_field"]
