"""The worker hands freed heap back once per quiet period after turns, never while they run."""

from __future__ import annotations

from wta_runtime.worker.heap_trim import HeapTrim, libc_malloc_trim


def _heap() -> tuple[HeapTrim, list[int]]:
    calls: list[int] = []

    def trim(pad: int) -> int:
        calls.append(pad)
        return 1

    return HeapTrim(trim), calls


def test_one_trim_after_a_quiet_period_that_follows_work() -> None:
    heap, calls = _heap()
    heap.worked()
    heap.tick()  # the period in which the turn ran
    assert calls == []
    heap.tick()  # a whole quiet period
    assert calls == [0]
    heap.tick()
    heap.tick()
    assert calls == [0]


def test_no_trim_while_turns_keep_coming() -> None:
    heap, calls = _heap()
    for _ in range(5):
        heap.worked()
        heap.tick()
    assert calls == []
    heap.tick()
    assert calls == [0]


def test_an_idle_worker_that_did_no_work_never_trims() -> None:
    heap, calls = _heap()
    for _ in range(5):
        heap.tick()
    assert calls == []


def test_glibc_trims_for_real() -> None:
    trim = libc_malloc_trim()
    assert trim is not None
    assert trim(0) in (0, 1)
    heap = HeapTrim()
    heap.worked()
    heap.tick()
    heap.tick()
    assert heap.trims == 1
