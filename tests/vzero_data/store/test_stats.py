from vzero_data.store.stats import format_stats, store_stats


def test_stats_counts_everything(curated_store):
    stats = store_stats(curated_store)
    assert stats["totals"]["samples"] == 4 and stats["totals"]["sample_rows"] == 8
    assert stats["samples_by_source"] == {"synthetic": 4}
    assert stats["samples_by_config"] == {"ingest": 4, "cfg-test": 4}
    assert stats["regions_by_grounder"] == {"oracle (none)": 4}
    assert stats["views_by_strategy"] == {"negative/corner": 3, "positive/crop": 4}
    area = stats["sample_box_area"]
    assert area["n"] == 4 and 0 < area["min"] <= area["median"] <= area["max"] < 0.02
    assert sum(area["histogram"].values()) == 4
    assert stats["selected_region_area"]["n"] == 4
    text = format_stats(stats)
    assert "synthetic: 4" in text and "negative/corner: 3" in text


def test_stats_counts_rejects_by_reason(ingested_store):
    with ingested_store.writer("r", "c") as w:
        for i, reason in enumerate(["no_box", "no_box", "tiny"]):
            w.add_reject(f"s{i}", "grounding", reason)
            w.commit_sample(f"s{i}")
    assert store_stats(ingested_store)["rejects_by_reason"] == {"grounding/no_box": 2, "grounding/tiny": 1}


def test_stats_sizes_come_from_parquet_footers_not_blobs(curated_store, monkeypatch):
    blobs = curated_store.query("SELECT sum(octet_length(bytes))::BIGINT AS n FROM images")["n"][0].as_py()
    views = curated_store.query("SELECT sum(octet_length(image_bytes))::BIGINT AS n FROM views")["n"][
        0
    ].as_py()
    sql = []
    real = type(curated_store).query

    def recording(self, text, params=None):
        sql.append(text)
        return real(self, text, params)

    monkeypatch.setattr(type(curated_store), "query", recording)
    totals = store_stats(curated_store)["totals"]
    # The column chunks hold the blobs plus a 4-byte length each and page headers.
    assert blobs <= totals["image_bytes"] <= blobs * 1.02 + 4096
    assert views <= totals["view_bytes"] <= views * 1.02 + 4096
    assert not [q for q in sql if "bytes" in q], "stats must never read an image or view blob"
    assert f"({totals['image_bytes'] / 1e6:.1f} MB)" in format_stats(store_stats(curated_store))


def test_boxes_from_the_data_set_show_their_grounder_alone(ingested_store):
    """The annotated grounder has no model: "annotated", not "annotated (?)"."""
    with ingested_store.writer("r", "c") as w:
        for i, model in enumerate([None, None, "IDEA-Research/grounding-dino-tiny"]):
            grounder = "annotated" if model is None else "grounding_dino"
            region = {"rank": 0, "box": [0.0, 0.0, 4.0, 4.0], "score": 1.0, "phrase": "x"}
            w.add_region(
                f"s{i}", {**region, "grounder": grounder, "model": model, "params": {}, "selected": True}
            )
            w.commit_sample(f"s{i}")
    assert store_stats(ingested_store)["regions_by_grounder"] == {
        "annotated": 2,
        "grounding_dino (IDEA-Research/grounding-dino-tiny)": 1,
    }
