"""Wake-ups for scoreboard recomputes: no DoraSource misses a change."""

from __future__ import annotations

import asyncio

from kubedora.handlers.scoreboard import Triggers


async def test_a_touch_wakes_every_waiter_of_that_namespace() -> None:
    triggers = Triggers()
    waiters = [asyncio.create_task(triggers.wait_beyond("shop", 0, timeout=5)) for _ in range(3)]
    await asyncio.sleep(0)
    triggers.touch("shop")
    assert await asyncio.gather(*waiters) == [1, 1, 1]


async def test_a_touch_before_the_wait_is_not_lost() -> None:
    triggers = Triggers()
    seen = triggers.counter("shop")
    triggers.touch("shop")
    assert await asyncio.wait_for(triggers.wait_beyond("shop", seen, timeout=5), 1) == 1


async def test_other_namespaces_do_not_wake_a_waiter() -> None:
    triggers = Triggers()
    waiter = asyncio.create_task(triggers.wait_beyond("shop", 0, timeout=0.2))
    await asyncio.sleep(0)
    triggers.touch("billing")
    assert await waiter == 0


async def test_the_wait_ends_at_its_timeout() -> None:
    triggers = Triggers()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await triggers.wait_beyond("shop", 0, timeout=0.05) == 0
    assert loop.time() - started >= 0.05
