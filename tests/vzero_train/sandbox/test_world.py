import shutil

import pytest

from vzero_data.synth_shared_colour import SharedColourKnobs
from vzero_train.sandbox.config import SPLIT_NAMES
from vzero_train.sandbox.world import WorldError, check_disjoint, write_split

KNOBS = SharedColourKnobs(size=64, objects_per_colour=1)


def test_splits_made_from_distinct_seeds_are_disjoint_by_sample_id_and_image(tmp_path):
    manifests = {name: write_split(tmp_path, name, 500 + i, 5, KNOBS) for i, name in enumerate(SPLIT_NAMES)}
    assert check_disjoint(manifests) == dict.fromkeys(SPLIT_NAMES, 5)


def test_a_split_repeating_another_splits_seed_is_refused_naming_the_sample(tmp_path):
    manifests = {
        "teacher": write_split(tmp_path, "teacher", 7, 3, KNOBS),
        "test": write_split(tmp_path, "test", 7, 3, KNOBS),
    }
    with pytest.raises(WorldError, match="sample synth-shared_colour-s7-000000 is in both teacher and test"):
        check_disjoint(manifests)


def test_an_image_repeated_under_another_id_is_refused(tmp_path):
    a = write_split(tmp_path, "teacher", 1, 3, KNOBS)
    b = write_split(tmp_path, "test", 2, 3, KNOBS)
    shutil.copyfile(
        a.parent / "images" / "synth-shared_colour-s1-000002.png",
        b.parent / "images" / "synth-shared_colour-s2-000001.png",
    )
    with pytest.raises(
        WorldError, match="split test: sample synth-shared_colour-s2-000001 repeats an image of split teacher"
    ):
        check_disjoint({"teacher": a, "test": b})


def test_a_world_folder_of_other_sizes_is_refused(tmp_path):
    write_split(tmp_path, "opd", 3, 4, KNOBS)
    assert write_split(tmp_path, "opd", 3, 4, KNOBS).is_file()  # same size: kept
    with pytest.raises(WorldError, match="holds 4 scenes, this run needs 6"):
        write_split(tmp_path, "opd", 3, 6, KNOBS)
