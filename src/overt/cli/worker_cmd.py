"""``overt worker``: a pipeline worker of the centre, without a server, under a lease.

Start as many as you like, on any hosts, against one PostgreSQL: for each deployment exactly one
worker holds its lease (:mod:`overt.deployments.leases`) and runs its cameras while it is
active; the others wait with their engine loaded and take over within the lease's time to live
when the leader dies. Alerts go straight into the shared store; every ``overt serve`` process
pushes them to its consoles (PostgreSQL ``NOTIFY``). Every write is made under the lease's
fencing token: a leader paused past its lease (not dead) is refused and stops its pipeline.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from overt.cli._common import JSON_OPTION, err_console, print_json, state
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, open_store
from overt.cli.run_cmd import DEPLOYMENT_OPTION, REALTIME_OPTION, SOURCE_OPTION


def register(app: typer.Typer) -> None:
    @app.command("worker")
    def worker_cmd(
        ctx: typer.Context,
        deployment: int = DEPLOYMENT_OPTION,
        source: list[str] = SOURCE_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        realtime: bool = REALTIME_OPTION,
        lease_ttl_s: float = typer.Option(
            5.0,
            "--lease-ttl",
            min=2.0,
            max=120.0,
            help="Seconds a dead worker's lease lasts before another takes over.",
        ),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Run the deployment's pipeline while this worker holds its lease and it is active."""
        from overt.alerts.review import AlertService
        from overt.deployments.leases import Leadership, LeaseService, deployment_lease
        from overt.deployments.runtime import PipelineSupervisor
        from overt.deployments.sinks import StoreAlertSink

        st = state(ctx)
        store, _ = open_store(data_dir, database_url)
        cfg = st.config
        engine = st.engine()  # loaded before competing: a standby takes over without a cold start
        alerts = AlertService(store)
        current: list[PipelineSupervisor] = []
        leadership: Leadership

        def gain() -> None:
            fence = leadership.fence
            current.append(
                PipelineSupervisor(
                    store,
                    deployment,
                    source,
                    engine_factory=lambda: engine,
                    sink_factory=lambda: StoreAlertSink(alerts, deployment, fence=fence, on_stale=leadership.fenced),
                    pipeline_config=cfg.pipeline,
                    source_config=cfg.sources,
                    realtime=realtime,
                    fence=fence,
                    on_stale=leadership.fenced,
                ).start()
            )
            token = "-" if fence is None else fence.token
            err_console().print(f"worker: leading deployment {deployment} (fencing token {token})")

        def lose(why: str) -> None:
            while current:
                current.pop().stop()
            err_console().print(f"worker: deployment {deployment} released ({why})")

        leadership = Leadership(
            LeaseService(store, ttl_s=lease_ttl_s),
            deployment_lease(deployment),
            on_gain=gain,
            on_lose=lose,
            renew_s=min(1.0, lease_ttl_s / 3),  # at least twice per time to live, even at the least (2 s)
        )
        stop = threading.Event()

        def _on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        old = signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)
        if as_json:
            print_json({"mode": "worker", "deployment": deployment, "holder": leadership.holder})
        else:
            err_console().print(f"Worker {leadership.holder}: deployment {deployment}; Ctrl-C stops")
        leadership.start()
        try:
            stop.wait()
        finally:
            leadership.stop()
            signal.signal(signal.SIGINT, old)
            store.db.dispose()
