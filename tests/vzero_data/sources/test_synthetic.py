from tests.vzero_data.sources.conftest import read_all
from vzero_data.synth import write_scenes


def test_synthetic_folder(tmp_path):
    write_scenes(tmp_path, 3, size=160, seed=1, progress=False)
    samples, rejects = read_all("synthetic", tmp_path)
    assert rejects == [] and len(samples) == 3
    s = samples[0].sample
    assert s.source == "synthetic" and s.target and len(s.boxes) == 1 and s.answer in s.options
    assert s.metadata["source_id"] == "synth-s1-000000" and len(s.metadata["target_rgb"]) == 3
