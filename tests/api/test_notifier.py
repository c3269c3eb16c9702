"""The notifier is fed from sync route handlers and pipeline threads: queues are touched on the loop only."""

from __future__ import annotations

import asyncio
import threading

from overt.api.notifier import AlertNotifier
from overt.store import Store


def test_publish_from_a_real_thread_runs_on_the_event_loop(store: Store) -> None:
    async def scenario() -> tuple[list[tuple[str, int]], set[int], int]:
        notifier = AlertNotifier(store, poll_s=60)
        await notifier.start()
        q = notifier.subscribe()
        loop_thread = threading.get_ident()
        put_threads: set[int] = set()
        real_put = q.put_nowait

        def recording_put(item: tuple[str, int]) -> None:
            put_threads.add(threading.get_ident())
            real_put(item)

        q.put_nowait = recording_put  # type: ignore[method-assign]

        def worker() -> None:  # a sync route handler (thread pool) or the pipeline's sink thread
            notifier.publish(41)
            notifier.publish(41)  # once only
            notifier.publish_update(41)

        t = threading.Thread(target=worker, name="pipeline-sink")
        t.start()
        got = [await asyncio.wait_for(q.get(), timeout=5) for _ in range(2)]
        t.join()
        notifier.publish(42)  # on the loop itself: immediate
        got.append(q.get_nowait())
        await notifier.stop()
        return got, put_threads, loop_thread

    got, put_threads, loop_thread = asyncio.run(scenario())
    assert got == [("alert", 41), ("update", 41), ("alert", 42)]
    assert put_threads == {loop_thread}
