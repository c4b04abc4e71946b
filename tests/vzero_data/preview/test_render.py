import base64
import html
import re

import numpy as np
from PIL import Image

from vzero_core.boxes import Box
from vzero_data.preview import (
    PreviewItem,
    PreviewTile,
    contact_sheet,
    gallery_html,
    items_from_views_folder,
    write_preview,
)
from vzero_data.preview.render import COLOUR_NOTE, NEGATIVE_COLOR, TARGET_COLOR, annotated_image
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
        assert re.search(rf"<b>(\d+: )?{strategy}</b>", page), strategy
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


def test_a_tiny_target_stays_visible_in_a_thumbnail():
    image = np.full((1024, 1024, 3), 120, np.uint8)
    item = PreviewItem("s", "q?", image, Box(500, 500, 520, 520), ())  # 0.04% of the image
    drawn = np.asarray(annotated_image(item, 192))
    ys, xs = np.nonzero(np.all(drawn == TARGET_COLOR, axis=-1))
    assert xs.max() - xs.min() + 1 >= 16 and ys.max() - ys.min() + 1 >= 16
    assert np.all(drawn[ys.min() : ys.min() + 2, xs.min() + 4] == TARGET_COLOR), "at least 2 px thick"


def _item_with_windows(question: str = "q?") -> PreviewItem:
    image = np.full((512, 512, 3), 120, np.uint8)
    crop = np.zeros((32, 32, 3), np.uint8)
    tiles = (
        PreviewTile("positive", crop, box=Box(200, 200, 264, 264), kind="positive"),
        PreviewTile("distractor", crop, box=Box(20, 40, 84, 104)),
        PreviewTile("shuffled", crop, box=None),
        PreviewTile("masked", None, caption="rejected: x"),
    )
    return PreviewItem("s", question, image, Box(220, 220, 240, 240), tiles)


def test_negative_windows_carry_their_number_and_strategy():
    item = _item_with_windows()
    page = gallery_html([item])
    assert "<b>1: distractor</b>" in page and "<b>shuffled</b>" in page and "<b>positive</b>" in page
    big = np.asarray(annotated_image(item, 512))  # large enough for the strategy's name
    small = np.asarray(annotated_image(item, 128))
    # The label is a filled orange strip: above the window when there is room, else inside it.
    above = np.nonzero(np.all(big[:40] == NEGATIVE_COLOR, axis=-1).any(axis=0))[0]
    assert above.max() - above.min() > 50, "the strategy's name, above the window"
    inside = np.all(small[11:25, 6:40] == NEGATIVE_COLOR, axis=-1).any(axis=0).sum()
    assert 3 <= inside <= 12, "a number inside the window in a thumbnail"


def test_colour_questions_note_the_views_that_keep_the_colour():
    assert html.escape(COLOUR_NOTE) in gallery_html([_item_with_windows("Where?")]).split("</h1>", 1)[1]
    per_item = gallery_html([_item_with_windows("What is the colour of the cup?")]).split("<section>", 1)[1]
    assert "keep the target" in per_item
    assert (
        "keep the target" not in gallery_html([_item_with_windows("Where is it?")]).split("<section>", 1)[1]
    )
