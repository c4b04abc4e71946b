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
