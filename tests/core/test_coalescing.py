"""Calls arriving together, done together: real threads against a Coalescer."""

import threading
import time

import pytest

from server.core.coalescing import Coalescer


class Recorder:
    """A batch worker that doubles its items, records each batch, and can hold the first one."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, list[int]]] = []
        self.release_first = threading.Event()
        self.first_started = threading.Event()
        self.fail_on: set[int] = set()

    def work(self, key: str, items: list[int]) -> list[int]:
        self.batches.append((key, list(items)))
        if len(self.batches) == 1:
            self.first_started.set()
            assert self.release_first.wait(10)
        if self.fail_on & set(items):
            raise ValueError(f"refused {sorted(self.fail_on & set(items))}")
        return [item * 2 for item in items]


def call_in_thread(coalescer: Coalescer, key: str, item: int, answers: dict) -> threading.Thread:
    def body() -> None:
        try:
            answers[item] = coalescer.call(key, item)
        except ValueError as error:
            answers[item] = error

    thread = threading.Thread(target=body)
    thread.start()
    return thread


def settle(coalescer: Coalescer, key: str, waiting: int) -> None:
    """Until ``waiting`` calls of the key wait behind the batch in flight (not in it)."""
    deadline = time.monotonic() + 10
    while len(coalescer._waiting.get(key, [])) < waiting:
        assert time.monotonic() < deadline, "the callers never queued"
        time.sleep(0.005)


def burst(coalescer: Coalescer, recorder: Recorder, later: list[int]) -> dict:
    """Item 1's batch held in flight while ``later`` items' calls queue behind it; every answer."""
    answers: dict = {}
    first = call_in_thread(coalescer, "k", 1, answers)
    assert recorder.first_started.wait(10)
    others = [call_in_thread(coalescer, "k", item, answers) for item in later]
    settle(coalescer, "k", len(later))
    recorder.release_first.set()
    for thread in [first, *others]:
        thread.join(10)
    return answers


def test_a_lone_call_is_its_own_batch():
    recorder = Recorder()
    recorder.release_first.set()
    coalescer = Coalescer(recorder.work, max_batch=10)
    assert coalescer.call("k", 4) == 8
    assert coalescer.call("k", 5) == 10
    assert recorder.batches == [("k", [4]), ("k", [5])]


def test_calls_arriving_during_a_batch_are_done_together_by_the_oldest():
    recorder = Recorder()
    waited: list[str] = []
    coalescer = Coalescer(
        recorder.work,
        max_batch=10,
        before_waiting=lambda: waited.append(threading.current_thread().name),
    )
    answers = burst(coalescer, recorder, list(range(2, 7)))
    assert recorder.batches[0] == ("k", [1])
    assert [key for key, _ in recorder.batches] == ["k", "k"]
    assert sorted(recorder.batches[1][1]) == [2, 3, 4, 5, 6]
    assert answers == {item: item * 2 for item in range(1, 7)}
    # Only those that waited for another's batch gave back what they hold.
    assert len(waited) == 5
    assert coalescer._waiting == {}


def test_a_batch_is_bounded_and_the_rest_goes_in_the_next():
    recorder = Recorder()
    coalescer = Coalescer(recorder.work, max_batch=3)
    answers = burst(coalescer, recorder, list(range(2, 9)))
    assert [len(items) for _, items in recorder.batches] == [1, 3, 3, 1]
    assert answers == {item: item * 2 for item in range(1, 9)}


def test_a_failed_batch_fails_its_callers_only_and_the_next_batch_still_runs():
    recorder = Recorder()
    recorder.fail_on = {1}
    coalescer = Coalescer(recorder.work, max_batch=10)
    answers = burst(coalescer, recorder, [2, 3])
    assert isinstance(answers[1], ValueError)
    assert answers[2] == 4
    assert answers[3] == 6
    assert coalescer._waiting == {}


def test_keys_are_never_batched_together():
    recorder = Recorder()
    coalescer = Coalescer(recorder.work, max_batch=10)
    answers: dict = {}
    first = call_in_thread(coalescer, "a", 1, answers)
    assert recorder.first_started.wait(10)
    # Another key's call does not wait for the batch in flight.
    assert coalescer.call("b", 2) == 4
    recorder.release_first.set()
    first.join(10)
    assert recorder.batches == [("a", [1]), ("b", [2])]
    assert answers == {1: 2}


@pytest.mark.parametrize("callers", [40])
def test_many_callers_each_get_their_own_answer(callers):
    recorder = Recorder()
    recorder.release_first.set()
    coalescer = Coalescer(recorder.work, max_batch=7)
    answers: dict = {}
    threads = [call_in_thread(coalescer, "k", item, answers) for item in range(callers)]
    for thread in threads:
        thread.join(10)
    assert answers == {item: item * 2 for item in range(callers)}
    done = sorted(item for _, items in recorder.batches for item in items)
    assert done == list(range(callers))
    assert all(len(items) <= 7 for _, items in recorder.batches)


def test_a_caller_whose_giving_back_fails_still_takes_its_turn():
    recorder = Recorder()

    def fails() -> None:
        raise ConnectionError("the database went away")

    coalescer = Coalescer(recorder.work, max_batch=10, before_waiting=fails)
    answers = burst(coalescer, recorder, [2, 3])
    assert answers == {1: 2, 2: 4, 3: 6}
    assert coalescer._waiting == {}
