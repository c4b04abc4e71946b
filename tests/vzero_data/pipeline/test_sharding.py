import pytest

from vzero_data.pipeline.sharding import ALL, ShardSpec, ShardSpecError, parse_shard, shard_of


@pytest.mark.parametrize(
    "text, expected",
    [("0/1", ShardSpec(0, 1)), ("1/4", ShardSpec(1, 4)), (" 3 / 8 ", ShardSpec(3, 8))],
)
def test_parse_shard(text, expected):
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["", "1", "2/2", "0/0", "-1/2", "a/b", "1/2/3", "1.0/2"])
def test_parse_shard_rejects(text):
    with pytest.raises(ShardSpecError, match="expected i/N"):
        parse_shard(text)


def test_shards_partition_ids_exactly_once():
    ids = [f"sample-{i}" for i in range(400)]
    for n in (1, 2, 3, 7):
        owners = [[s for s in range(n) if ShardSpec(s, n).owns(i)] for i in ids]
        assert all(len(o) == 1 for o in owners)
        sizes = [sum(o == [s] for o in owners) for s in range(n)]
        assert min(sizes) > 400 / n * 0.7  # roughly balanced


def test_everything_belongs_to_the_single_shard():
    assert all(ALL.owns(f"id{i}") for i in range(50))


def test_shard_of_known_value():
    # sha256("abc") starts with ba7816bf8f01cfea; 0xba7816bf8f01cfea % 10 == 0
    assert shard_of("abc", 10) == 0xBA7816BF8F01CFEA % 10
