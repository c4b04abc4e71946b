from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from vzero_train.data import DataError, PromptStream, RecordLike, choose_negative, shuffled, to_prompt_item


def _record(i: int, negatives=("window", "masked"), question: str | None = None):
    im = Image.new("RGB", (4, 4))
    return SimpleNamespace(
        sample_id=f"s{i}",
        question=question if question is not None else f"question {i}?",
        image=im,
        positive=im,
        negatives={name: Image.new("L", (2, 2)) for name in negatives},
    )


RECORDS = [_record(i) for i in range(5)]


def test_store_like_records_satisfy_the_protocol():
    assert isinstance(RECORDS[0], RecordLike)


@pytest.mark.parametrize(
    "strategy, requested, allowed",
    [
        ("window", None, {"window"}),
        ("masked", ["window"], {"masked"}),  # a named strategy wins
        ("random", None, {"window", "masked"}),
        ("random", ["masked", "downsampled"], {"masked"}),
    ],
)
def test_choose_negative(strategy, requested, allowed):
    picks = {choose_negative(RECORDS[0], strategy, requested, np.random.default_rng(s))[0] for s in range(20)}
    assert picks == allowed


@pytest.mark.parametrize(
    "strategy, requested, message",
    [
        ("shuffled", None, "sample s0: no negative view 'shuffled' \\(it has: masked, window\\)"),
        ("random", ["shuffled"], "sample s0: none of the requested negative strategies \\(shuffled\\)"),
    ],
)
def test_missing_negative_is_a_located_error(strategy, requested, message):
    with pytest.raises(DataError, match=message):
        choose_negative(RECORDS[0], strategy, requested, np.random.default_rng(0))


def test_empty_question_is_rejected():
    with pytest.raises(DataError, match="sample s9: empty question"):
        to_prompt_item(_record(9, question="  "), 0, negative="random", requested=None, seed=0)


def test_prompt_items_are_rgb_and_deterministic():
    a = to_prompt_item(RECORDS[1], 7, negative="random", requested=None, seed=3)
    b = to_prompt_item(RECORDS[1], 7, negative="random", requested=None, seed=3)
    assert a.negative.mode == "RGB" and a.index == 7
    assert a.negative_strategy == b.negative_strategy


def _ids(items):
    return [(it.sample_id, it.index, it.negative_strategy) for it in items]


def test_stream_cycles_passes_and_shuffles_reproducibly():
    stream = PromptStream(lambda: RECORDS, seed=0, shuffle_buffer=3)
    batches = [stream.next_batch(4) for _ in range(3)]
    ids = [it.sample_id for b in batches for it in b]
    assert sorted(ids[:5]) == [f"s{i}" for i in range(5)], "each pass sees every record once"
    assert ids[:5] != [f"s{i}" for i in range(5)], "the buffer shuffles"
    assert [it.index for b in batches for it in b] == list(range(12)) and stream.position == 12
    again = PromptStream(lambda: RECORDS, seed=0, shuffle_buffer=3)
    assert _ids(again.next_batch(12)) == _ids([it for b in batches for it in b])


def test_stream_resumes_at_a_position():
    full = PromptStream(lambda: RECORDS, seed=1, shuffle_buffer=2)
    first, rest = full.next_batch(4), [full.next_batch(4) for _ in range(2)]
    resumed = PromptStream(lambda: RECORDS, seed=1, shuffle_buffer=2, position=4)
    assert [_ids(resumed.next_batch(4)) for _ in range(2)] == [_ids(b) for b in rest]
    assert first


def test_processes_take_disjoint_shares():
    whole = PromptStream(lambda: RECORDS, seed=0).next_batch(4)
    shares = [PromptStream(lambda: RECORDS, seed=0, rank=r, world_size=2).next_batch(4) for r in range(2)]
    assert _ids(shares[0] + shares[1]) == _ids(whole)
    with pytest.raises(ValueError, match="not divisible by 2 processes"):
        PromptStream(lambda: RECORDS, world_size=2).next_batch(3)


def test_empty_source_is_an_error():
    with pytest.raises(DataError, match="source is empty"):
        PromptStream(lambda: []).next_batch(1)


def test_shuffle_buffer_of_one_keeps_order():
    assert list(shuffled(range(5), 1, np.random.default_rng(0))) == [0, 1, 2, 3, 4]
