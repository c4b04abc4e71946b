"""Training straight from a curated store through the store API (skipped until the store lands)."""

import pytest

from vzero_train.cli import main
from vzero_train.metrics import read_metrics

store_api = pytest.importorskip("vzero_data.store")
ingest_api = pytest.importorskip("vzero_data.ingest")
image_io = pytest.importorskip("vzero_data.image_io")


def _curated_store(root, configs=("cfg-test",)):
    from vzero_data.synth import write_scenes

    write_scenes(root / "synth", 4, size=192, seed=3, progress=False)
    store = store_api.open_store(root / "store", create=True)
    ingest_api.ingest(str(root / "synth"), "synthetic", store, progress=False)
    for config in configs:
        _write_views(store, config)
    return root / "store"


def _write_views(store, config):
    decode_image, encode_image = image_io.decode_image, image_io.encode_image
    with store.writer(f"curate-{config}", config) as w:
        for i, s in enumerate(sorted(store.iter_samples("ingest"), key=lambda s: s.sample_id)):
            image = decode_image(store.image_bytes([s.image_sha256])[s.image_sha256])
            box = s.boxes[0]
            w.add_sample(s)
            w.add_region(
                s.sample_id,
                {
                    "rank": 0,
                    "box": box,
                    "score": 1.0,
                    "phrase": s.target,
                    "grounder": "annotated",
                    "model": "none",
                    "params": {},
                    "selected": True,
                },
            )
            positive = image.crop(box.expand(ratio=0.5).clip(*image.size).round_out())
            w.add_view(
                s.sample_id,
                {
                    "kind": "positive",
                    "strategy": "crop",
                    "image_bytes": encode_image(positive),
                    "box": box.to_list(),
                    "seed": i,
                    "params": {},
                },
            )
            w.add_view(
                s.sample_id,
                {
                    "kind": "negative",
                    "strategy": "corner",
                    "image_bytes": encode_image(image.crop((0, 0, 24, 24))),
                    "box": [0.0, 0.0, 24.0, 24.0],
                    "seed": i,
                    "overlap_iou": 0.0,
                },
            )
            w.commit_sample(s.sample_id)


@pytest.mark.slow
def test_cli_trains_on_a_curated_store(tmp_path, tiny_vlm):
    store = _curated_store(tmp_path)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "train:\n"
        f"  store: {store}\n"
        f"  output_dir: {tmp_path / 'run'}\n"
        f"  student: {tiny_vlm('qwen2_5_vl')}\n"
        f"  teacher: {{kind: external, path: {tiny_vlm('qwen2_5_vl', 'teacher')}}}\n"
        "  data: {negative: corner}\n"
        "  rollout: {group_size: 2, max_new_tokens: 4}\n"
        "  prompts_per_step: 2\n"
        "  steps: 2\n"
        "  device: cpu\n"
        "  tensorboard: false\n"
    )
    assert main(["train", str(recipe)]) == 0
    logged = read_metrics(tmp_path / "run")
    assert [r["step"] for r in logged] == [1, 2] and "gate/weight_mean" in logged[0]
    assert logged[-1]["data_position"] == 4


def test_a_store_of_several_configs_needs_one_named(tmp_path):
    from vzero_train.config import TrainConfig
    from vzero_train.trainer import store_records

    store = _curated_store(tmp_path, configs=("cfg-a", "cfg-b"))
    config = TrainConfig(store=str(store), student="s", teacher={"kind": "frozen_self"})
    with pytest.raises(
        store_api.StoreError, match="several config hashes .*cfg-a, cfg-b.*train.data.config_hash"
    ):
        store_records(config)
    chosen = TrainConfig(
        store=str(store), student="s", teacher={"kind": "frozen_self"}, data={"config_hash": "cfg-b"}
    )
    records = list(store_records(chosen)())
    assert len(records) == 4 and {r.config_hash for r in records} == {"cfg-b"}
