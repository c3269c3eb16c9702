"""The deployment runtime (``overt run``'s supervisor): permanent failures are reported once.

A permanent failure (an authorised empty watch list, templates of another model) stops the
deployment once with ``failed to start: <reason>`` (persisted, audited), closes every source
opened for the attempt, and is not retried: no repeated snapshot decrypts or
``snapshot.loaded`` audit entries. A transient failure is retried with backoff.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pytest

from overt.alerts import MemorySink
from overt.deployments import DeploymentService
from overt.deployments.runtime import Backoff, PipelineSupervisor
from overt.domain.clock import FakeClock
from overt.domain.deployments import DeploymentState
from overt.domain.frames import Frame
from overt.errors import StorageError
from overt.sources.base import SourceStats
from overt.store import Store
from tests.gov_helpers import add_entry, plan, publish_late, users


@dataclass
class _Source:
    camera_id: str
    live: bool = False
    closed: list[str] = field(default_factory=list)

    def start(self) -> None:
        return None

    def read(self, timeout_s: float) -> Frame | None:
        time.sleep(min(timeout_s, 0.01))
        return None

    def stats(self) -> SourceStats:
        return SourceStats(
            camera_id=self.camera_id, frames_read=0, frames_dropped=0, reconnects=0, connected=True, exhausted=False
        )

    def close(self) -> None:
        self.closed.append(self.camera_id)


def _active(store: Store, clock: FakeClock, *, entries: int) -> int:
    u = users(store)
    for i in range(entries):
        add_entry(store, f"CASE-{i}", i + 1)
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(clock.now()))
    svc.authorise(u["officer"], d.id)
    publish_late(svc, u, d.id)
    svc.start(u["op"], d.id)
    return d.id


def _audit(store: Store, action: str) -> int:
    with store.transaction() as tx:
        return sum(1 for e in tx.audit.entries() if e.action == action)


def _run(store: Store, dep: int, engine: object, opened: list[_Source], **kw: object) -> PipelineSupervisor:
    import overt.pipeline.compose as compose

    def fake_open(uri: str, *, camera_id: str, realtime: bool, config: object) -> _Source:
        s = _Source(camera_id)
        opened.append(s)
        return s

    mp = pytest.MonkeyPatch()
    mp.setattr(compose, "open_source", fake_open)
    engine_factory: Callable[[], object] = lambda: engine  # noqa: E731
    sup = PipelineSupervisor(
        store,
        dep,
        ["a.mp4", "b.mp4"],
        engine_factory=engine_factory,
        sink_factory=MemorySink,
        realtime=False,
        poll_s=0.02,
        **kw,  # type: ignore[arg-type]
    ).start()
    time.sleep(1.0)  # 50 polls
    sup.stop()
    mp.undo()
    return sup


def test_empty_watch_list_fails_to_start_once(store: Store, clock: FakeClock) -> None:
    dep = _active(store, clock, entries=0)
    opened: list[_Source] = []
    sup = _run(store, dep, SimpleNamespace(embedder=SimpleNamespace(model_id="arcface_w600k_mbf")), opened)
    assert sup.status.launches == 1
    assert _audit(store, "snapshot.loaded") == 1
    assert _audit(store, "deployment.failed") == 1
    d = DeploymentService(store).show(dep).deployment
    assert d.state is DeploymentState.AUTHORISED
    assert d.stop_reason is not None
    assert d.stop_reason.startswith("failed to start: the authorised watch list is empty")
    assert sup.status.failed == d.stop_reason
    assert opened == []  # failed before any camera was opened


def test_wrong_model_closes_every_source_it_opened_and_does_not_loop(store: Store, clock: FakeClock) -> None:
    dep = _active(store, clock, entries=2)
    opened: list[_Source] = []
    sup = _run(store, dep, SimpleNamespace(embedder=SimpleNamespace(model_id="another-model")), opened)
    assert sup.status.launches == 1
    assert _audit(store, "snapshot.loaded") == 1
    d = DeploymentService(store).show(dep).deployment
    assert d.stop_reason is not None
    assert d.stop_reason.startswith("failed to start: watch list templates are from")
    assert len(opened) == 2
    assert all(s.closed for s in opened)


def test_transient_failure_retries_with_backoff(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import overt.deployments.runtime as runtime

    dep = _active(store, clock, entries=1)
    calls: list[float] = []

    def busy(*a: object, **k: object) -> object:
        calls.append(time.monotonic())
        raise StorageError("database is locked")

    monkeypatch.setattr(runtime, "load_live_snapshot", busy)
    opened: list[_Source] = []
    sup = _run(store, dep, object(), opened, backoff=Backoff(first_s=0.1, max_s=10.0))
    # 0.1 + 0.2 + 0.4 s of backoff fit in 1 s: a few tries, not 50.
    assert 2 <= len(calls) <= 5
    assert all(b - a >= 0.09 for a, b in itertools.pairwise(calls))
    assert DeploymentService(store).show(dep).deployment.state is DeploymentState.ACTIVE
    assert sup.status.failed is None
    assert sup.status.last_error == "database is locked"


def test_the_failure_is_shown_by_deployment_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from overt.cli.app import main
    from overt.store.datadir import init_data_dir

    store = init_data_dir(tmp_path / "data")
    try:
        dep = _active(store, store.clock, entries=0)  # type: ignore[arg-type]
        _run(store, dep, SimpleNamespace(embedder=SimpleNamespace(model_id="arcface_w600k_mbf")), [])
    finally:
        store.db.dispose()
    capsys.readouterr()
    assert main(["deployment", "show", str(dep), "--data-dir", str(tmp_path / "data"), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["state"] == "authorised"
    assert shown["stop_reason"].startswith("failed to start: the authorised watch list is empty")
