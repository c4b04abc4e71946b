import os

import pytest

from vzero_data.pipeline.executors.local import LocalExecutor


def square_chunk(chunk):
    return [(x * x, os.getpid()) for x in chunk]


def failing_chunk(chunk):
    if 3 in chunk:
        raise RuntimeError("boom")
    return chunk


@pytest.mark.parametrize("workers, chunk_size", [(0, 1), (0, 4), (2, 1), (2, 3)])
def test_map_ordered_keeps_input_order(workers, chunk_size):
    with LocalExecutor(workers, chunk_size=chunk_size, max_in_flight=2) as ex:
        out = list(ex.map_ordered(square_chunk, range(20)))
    assert [v for v, _ in out] == [x * x for x in range(20)]
    pids = {pid for _, pid in out}
    assert (os.getpid() in pids) == (workers == 0)


def test_map_ordered_is_lazy_and_bounded():
    pulled = []

    def source():
        for i in range(100):
            pulled.append(i)
            yield i

    with LocalExecutor(2, chunk_size=2, max_in_flight=3) as ex:
        results = ex.map_ordered(square_chunk, source())
        first = next(results)
        assert first[0] == 0
        # at most max_in_flight chunks were submitted before the first result came back
        assert len(pulled) <= 2 * 3 + 1
        results.close()


def test_worker_exception_propagates():
    with LocalExecutor(1, chunk_size=1) as ex, pytest.raises(RuntimeError, match="boom"):
        list(ex.map_ordered(failing_chunk, range(5)))


def test_negative_workers_rejected():
    with pytest.raises(ValueError, match="workers"):
        LocalExecutor(-1)
