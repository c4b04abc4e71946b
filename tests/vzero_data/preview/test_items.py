from vzero_data.preview import items_from_views_folder


def test_items_from_a_views_folder_put_the_positive_first_and_rejections_last(views_dir, samples):
    items = list(items_from_views_folder(views_dir, n=5))
    assert [i.sample_id for i in items] == [s.sample_id for s in samples]
    first, last = items[0], items[-1]
    assert [t.label for t in first.tiles] == [
        "positive",
        "cross_image",
        "downsampled_distractor",
        "masked",
        "shuffled",
    ]
    assert [t.label for t in last.tiles][-1] == "cross_image" and last.tiles[-1].pixels is None
    assert last.tiles[-1].caption.startswith("rejected: no_other_image")
    assert first.target == samples[0].target and first.question == samples[0].question
    assert "other image" in first.tiles[1].caption
