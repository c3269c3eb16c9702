"""The per-process alert fan-out: one load per alert, same bytes to all, bounded queues, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from starlette.requests import HTTPConnection

from overt.api.fanout import LAGGING, SESSION_ENDED, AlertFanout, Close, Subscriber
from overt.api.notifier import AlertNotifier
from overt.store import Store


def _conn(cookie: str) -> HTTPConnection:
    return HTTPConnection({"type": "websocket", "headers": [(b"cookie", f"overt_session={cookie}".encode())]})


class Fake:
    def __init__(self) -> None:
        self.rendered: list[int] = []
        self.checked: list[str] = []
        self.revoked: set[str] = set()

    def render(self, batch: Sequence[tuple[str, int]]) -> list[str]:
        self.rendered += [i for _, i in batch]
        return [f"{kind}:{i}" for kind, i in batch]

    def allowed(self, conn: HTTPConnection) -> bool:
        cookie = conn.cookies["overt_session"]
        self.checked.append(cookie)
        return cookie not in self.revoked


def _fanout(store: Store, fake: Fake, *, heartbeat_s: float = 60.0, frames: int = 256) -> AlertFanout:
    notifier = AlertNotifier(store, poll_s=60)
    return AlertFanout(
        notifier,
        render=fake.render,
        allowed=fake.allowed,
        heartbeat=lambda: "beat",
        heartbeat_s=heartbeat_s,
        queue_frames=frames,
    )


def _waiting(sub: Subscriber) -> list[str | Close]:
    out: list[str | Close] = []
    while not sub.queue.empty():
        out.append(sub.queue.get_nowait())
    return out


async def _settle(fan: AlertFanout, loads: int) -> None:
    for _ in range(500):
        if fan.loads >= loads:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {fan.loads} of {loads} alerts were rendered")


def test_each_alert_is_loaded_once_for_every_console_in_order(store: Store) -> None:
    fake = Fake()

    async def scenario() -> tuple[list[list[str | Close]], list[int]]:
        fan = _fanout(store, fake)
        await fan.notifier.start()
        subs = [await fan.subscribe(_conn(f"s{i}")) for i in range(20)]
        for i in range(1, 51):
            fan.notifier.publish(i)
        fan.notifier.publish_update(7)
        await _settle(fan, 51)
        got = [_waiting(s) for s in subs]
        await fan.stop()
        await fan.notifier.stop()
        return got, fake.rendered

    queues, rendered = asyncio.run(scenario())
    assert sorted(rendered) == sorted([*range(1, 51), 7])  # 51 loads, not 51 x 20
    expected = ["beat", *(f"alert:{i}" for i in range(1, 51)), "update:7"]
    for q in queues:
        assert [f for f in q if isinstance(f, str)] == expected  # every console, same order
    first = [f for f in queues[0] if isinstance(f, str)]
    assert all(a is b for a, b in zip(first, [f for f in queues[1] if isinstance(f, str)], strict=True))


def test_a_slow_console_is_closed_to_catch_up_and_slows_nobody(store: Store) -> None:
    fake = Fake()

    async def scenario() -> tuple[list[str | Close], list[str | Close]]:
        fan = _fanout(store, fake, frames=10)
        await fan.notifier.start()
        slow = await fan.subscribe(_conn("slow"))
        fast = await fan.subscribe(_conn("fast"))
        got: list[str | Close] = []
        for i in range(1, 31):
            fan.notifier.publish(i)
            await _settle(fan, i)
            got += _waiting(fast)  # the fast one keeps reading; the slow one never does
        left = _waiting(slow)
        await fan.stop()
        await fan.notifier.stop()
        return left, got

    slow, fast = asyncio.run(scenario())
    assert len(slow) == 1, slow  # what waited was discarded: the console fetches it by after_id
    assert isinstance(slow[0], Close)
    assert slow[0].code == LAGGING
    assert [f for f in fast if isinstance(f, str)] == ["beat", *(f"alert:{i}" for i in range(1, 31))]


def test_credentials_are_checked_once_per_heartbeat_and_a_revoked_one_gets_nothing_more(store: Store) -> None:
    fake = Fake()

    async def scenario() -> tuple[list[str | Close], list[str | Close], list[str]]:
        fan = _fanout(store, fake, heartbeat_s=0.2)
        await fan.notifier.start()
        shared = [await fan.subscribe(_conn("shared")) for _ in range(5)]
        other = await fan.subscribe(_conn("other"))
        await asyncio.sleep(0.3)  # one beat: two credentials checked, not six sockets
        checked_once = list(fake.checked)
        fake.revoked.add("shared")
        await asyncio.sleep(0.3)  # the next beat ends the revoked sockets
        fan.notifier.publish(1)
        await _settle(fan, 1)
        got = _waiting(shared[0]), _waiting(other)
        await fan.stop()
        await fan.notifier.stop()
        return *got, checked_once

    revoked, other, checked_once = asyncio.run(scenario())
    assert sorted(checked_once) == ["other", "shared"]
    assert revoked == [Close(SESSION_ENDED, "session ended or credentials revoked")]
    assert "alert:1" in other
