"""The work queue's guarantees: once queued, one worker at a time, nothing
lost while a worker has the key, and a back-off that grows and resets."""

from __future__ import annotations

import asyncio

import pytest

from kubedora.k8s.workqueue import WorkQueue


async def test_a_key_added_many_times_waits_once() -> None:
    queue: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "a", "a", "b"):
        queue.add(key)
    assert len(queue) == 2
    assert [await queue.get(), await queue.get()] == ["a", "b"]


async def test_a_key_added_while_worked_on_comes_back_once_done_not_before() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    key = await queue.get()
    queue.add("a")
    queue.add("a")
    # A second worker must not get the key its first worker still has.
    assert len(queue) == 0
    queue.done(key)
    assert len(queue) == 1
    assert await queue.get() == "a"
    queue.done("a")
    assert len(queue) == 0


async def test_a_key_not_added_again_is_gone_when_done() -> None:
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    queue.done(await queue.get())
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await queue.get()


async def test_the_back_off_doubles_up_to_its_cap_and_resets_on_success() -> None:
    queue: WorkQueue[str] = WorkQueue(base_delay=0.01, max_delay=0.04)
    delays = [queue.retry("a") for _ in range(4)]
    assert delays == [0.01, 0.02, 0.04, 0.04]
    queue.forget("a")
    assert queue.retry("b") == 0.01
    assert queue.retry("a") == 0.01
    queue.close()


async def test_a_retried_key_comes_back_after_its_delay() -> None:
    queue: WorkQueue[str] = WorkQueue(base_delay=0.05)
    queue.retry("a")
    assert (len(queue), queue.delayed) == (0, 1)
    async with asyncio.timeout(5):
        assert await queue.get() == "a"
    assert queue.delayed == 0


async def test_close_cancels_what_is_delayed() -> None:
    queue: WorkQueue[str] = WorkQueue(base_delay=0.01)
    queue.retry("a")
    queue.close()
    await asyncio.sleep(0.05)
    assert (len(queue), queue.delayed) == (0, 0)
