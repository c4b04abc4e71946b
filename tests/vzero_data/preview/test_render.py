import base64
import re

import numpy as np
from PIL import Image

from vzero_data.boxes import Box
from vzero_data.preview import (
    PreviewItem,
    PreviewTile,
    contact_sheet,
    gallery_html,
    items_from_views_folder,
    write_preview,
)
from vzero_data.preview.render import TARGET_COLOR, annotated_image
from vzero_data.views.encoding import decode_rgb


def test_target_box_is_drawn_on_the_full_image():
    image = np.full((100, 200, 3), 120, np.uint8)
    item = PreviewItem("s", "q?", image, Box(50, 20, 70, 40), ())
    drawn = np.asarray(annotated_image(item, 400))
    magenta = np.all(drawn == TARGET_COLOR, axis=-1)
    ys, xs = np.nonzero(magenta)
    assert (xs.min(), ys.min(), xs.max(), ys.max()) == (50, 20, 69, 39)


def test_contact_sheet_has_a_row_per_sample_and_a_cell_per_view(views_dir):
    items = list(items_from_views_folder(views_dir, n=3))
    sheet = contact_sheet(items, tile=96)
    columns = 1 + max(len(i.tiles) for i in items)
    assert sheet.width == 6 + columns * (96 + 6)
    assert sheet.height == 16 + 3 * (16 + 96 + 36 + 6)


def test_gallery_is_self_contained_and_labelled(views_dir, samples):
    items = list(items_from_views_folder(views_dir, n=3))
    page = gallery_html(items)
    assert 'src="http' not in page and "src='http" not in page
    uris = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(uris) == sum(1 + sum(t.pixels is not None for t in i.tiles) for i in items)
    decoded = [decode_rgb(base64.b64decode(u)) for u in uris]
    assert any(np.array_equal(d, samples[0].views[0].pixels) for d in decoded), (
        "crops are inlined at full size"
    )
    for strategy in ("positive", "downsampled_distractor", "masked", "shuffled", "cross_image"):
        assert f"<b>{strategy}</b>" in page
    assert "rejected: no_other_image" in page
    assert samples[0].question.replace("?", "") in page


def test_html_escapes_text():
    image = np.zeros((20, 20, 3), np.uint8)
    tile = PreviewTile("<script>", image, "a & b")
    page = gallery_html([PreviewItem("<id>", "is 1 < 2?", image, None, (tile,))])
    assert "<script>" not in page and "&lt;script&gt;" in page and "a &amp; b" in page


def test_write_preview_writes_both_files(tmp_path, views_dir):
    sheet, page = write_preview(items_from_views_folder(views_dir, n=2), tmp_path / "out", tile=64)
    assert Image.open(sheet).format == "PNG"
    assert page.read_text().startswith("<!DOCTYPE html>")
