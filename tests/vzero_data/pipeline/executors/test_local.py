import os
from pathlib import Path

import pytest

from vzero_data.pipeline.executors.local import LocalExecutor

pytestmark = pytest.mark.e2e


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


PRELOAD_SCRIPT = """
import sys
from vzero_data.pipeline.executors.local import LocalExecutor
from tests.vzero_data.pipeline.executors.test_local import imported_before_work


with LocalExecutor(2, chunk_size=1, preload=tuple(sys.argv[1:])) as ex:
    print(sorted(set(ex.map_ordered(imported_before_work, range(4)))))
"""


def imported_before_work(chunk):
    import sys

    return [("tabnanny" in sys.modules, "vzero_data.pipeline.stages" in sys.modules) for _ in chunk]


@pytest.mark.parametrize(
    "preload, expected",
    [
        ((), "[(False, False)]"),
        (("tabnanny", "vzero_data.pipeline.stages"), "[(True, True)]"),
    ],
)
def test_preloaded_modules_are_imported_once_in_the_fork_server_before_any_work(preload, expected):
    # A fresh interpreter: the fork server is per process and reads its preload list when it starts.
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", PRELOAD_SCRIPT, *preload], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == expected


@pytest.mark.parametrize(
    "workers, given, in_flight",
    [
        (0, None, 4),
        (1, None, 4),  # one running, and enough queued to outlast a store flush in the driver
        (2, None, 6),
        (8, None, 24),
        (8, 3, 3),  # execution.max_in_flight wins
    ],
)
def test_chunks_in_flight_default_to_two_queued_per_worker(workers, given, in_flight):
    assert LocalExecutor(workers, max_in_flight=given).max_in_flight == in_flight


def interrupt_disposition(chunk):
    import signal

    return [signal.getsignal(signal.SIGINT) is signal.SIG_IGN for _ in chunk]


def test_workers_and_their_fork_server_leave_ctrl_c_to_the_run():
    """Ctrl-C reaches the whole process group; a worker that took it as KeyboardInterrupt printed
    `Process ForkServerProcess-1:` (and its traceback) after the run had said `interrupted`."""
    from multiprocessing import forkserver

    with LocalExecutor(2, chunk_size=1) as ex:
        assert all(ex.map_ordered(interrupt_disposition, range(4)))
        status = Path(f"/proc/{forkserver._forkserver._forkserver_pid}/status")
        text = status.read_text() if status.exists() else None
    if text is not None:  # Linux: the fork server ignores SIGINT (bit 2 of SigIgn) from its start
        ignored = int(next(line for line in text.splitlines() if line.startswith("SigIgn:")).split()[1], 16)
        assert ignored & (1 << 1)
