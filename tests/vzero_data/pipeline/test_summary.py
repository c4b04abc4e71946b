from vzero_data.pipeline.summary import RunSummary


def test_summary_counts_and_format():
    s = RunSummary(config_hash="abc123")
    s.kept, s.views, s.already_done, s.duplicates = 3, 12, 2, 1
    s.reject("grounding", "no_box")
    s.reject("grounding", "no_box")
    s.reject("views", "flat_view")
    s.add_time("grounding", 1.5)
    s.finish()
    assert s.processed == 6
    text = s.format()
    assert "kept: 3 samples, 12 views" in text
    assert "rejected: 3" in text
    assert text.index("grounding: no_box: 2") < text.index("views: flat_view: 1")
    assert "2 already curated" in text and "1 repeated in the source" in text
    assert "grounding 1.5s" in text
    d = s.to_dict()
    assert d["rejected"] == [
        {"stage": "grounding", "reason": "no_box", "count": 2},
        {"stage": "views", "reason": "flat_view", "count": 1},
    ]
    assert d["kept"] == 3 and d["stage_seconds"]["grounding"] == 1.5


def test_timed_adds_wall_time():
    s = RunSummary(config_hash="x")
    with s.timed("store"):
        sum(range(1000))
    assert s.stage_seconds["store"] > 0
