"""``overt run``: one deployment's pipeline and the server together; or edge mode (``--server``)."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from types import FrameType

import typer

from overt.cli._common import JSON_OPTION, err_console, print_json, state
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, open_store
from overt.cli.serve import (
    HOST_OPTION,
    INSECURE_OPTION,
    PORT_OPTION,
    SECOND_OPTION,
    TRUSTED_PROXY_OPTION,
)
from overt.errors import ConfigError

DEPLOYMENT_OPTION = typer.Option(..., "--deployment", min=1, help="The deployment whose cameras to watch.")
SOURCE_OPTION = typer.Option(
    ..., "--source", help="Video file, image folder, rtsp://, http(s):// or webcam:N (repeat per camera)."
)
REALTIME_OPTION = typer.Option(True, "--realtime/--no-realtime", help="Pace video files at their frame rate.")


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_cmd(
        ctx: typer.Context,
        deployment: int = DEPLOYMENT_OPTION,
        source: list[str] = SOURCE_OPTION,
        data_dir: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        host: str = HOST_OPTION,
        port: int = PORT_OPTION,
        insecure_cookies: bool = INSECURE_OPTION,
        second_person: bool = SECOND_OPTION,
        trusted_proxy: list[str] = TRUSTED_PROXY_OPTION,
        realtime: bool = REALTIME_OPTION,
        server: list[str] | None = typer.Option(
            None,
            "--server",
            help="Edge mode: post alerts to this central server (https://host) instead of serving; repeat for "
            "fallback addresses of the centre, tried in order.",
        ),
        token_env: str = typer.Option(
            "OVERT_DEVICE_TOKEN", "--token-env", help="Edge mode: environment variable holding the device token."
        ),
        workers: int | None = typer.Option(
            None,
            "--workers",
            min=1,
            max=64,
            help="Run the cameras in N processes, each with its own inference worker (default: pipeline.workers).",
        ),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Run the deployment's pipeline while it is active (start and stop it from the console or
        ``overt deployment start|stop``) and serve the console; with ``--server``, post alerts to
        a central server with a device token, keeping them in a spool while it is unreachable
        (``<data-dir>/spool/alerts.jsonl``, sealed with the data directory's key)."""
        from overt.deployments.runtime import PipelineSupervisor

        st = state(ctx)
        store, d = open_store(data_dir, database_url)
        store_ = store
        cfg = st.config
        pipeline_cfg = cfg.pipeline if workers is None else cfg.pipeline.model_copy(update={"workers": workers})
        stop = threading.Event()

        def _on_signal(signum: int, frame: FrameType | None) -> None:
            stop.set()

        if server:
            from overt.alerts.spool import data_dir_spool
            from overt.alerts.webhook import WebhookSink

            token = os.environ.get(token_env, "").strip()
            if not token:
                raise ConfigError(f"edge mode needs the device token in ${token_env}")
            urls = [s.rstrip("/") + "/api/v1/ingest/alerts" for s in server]
            with store_.transaction() as tx:
                spool = data_dir_spool(d, "alerts", tx.vault.spool_key())
            spool_path = spool.path
            for url in urls:
                if url.startswith("http://") and not url.startswith(("http://127.0.0.1", "http://localhost")):
                    raise ConfigError("edge mode sends alerts over HTTPS only (http:// is allowed for localhost)")
            from overt.deployments.edge_heartbeat import EdgeHeartbeat

            beats = EdgeHeartbeat(server, token).start()  # the centre's console: "live", per camera
            sup = PipelineSupervisor(
                store_,
                deployment,
                source,
                engine_factory=st.engine,
                heartbeat=beats,
                # The central ingest keeps the probe crop (sealed): the body carries it over HTTPS.
                sink_factory=lambda: WebhookSink(
                    urls,
                    spool,
                    include_images=True,
                    headers={"Authorization": f"Bearer {token}"},
                    spool_retry_s=5.0,
                    require_ack=True,  # kept in the outbox until the centre names the stored alert
                    write_ahead=True,  # ... from the moment it is raised
                ),
                pipeline_config=pipeline_cfg,
                engine_config=cfg.engine,
                source_config=cfg.sources,
                realtime=realtime,
            ).start()
            old = signal.signal(signal.SIGINT, _on_signal)
            signal.signal(signal.SIGTERM, _on_signal)
            if as_json:
                print_json(
                    {
                        "mode": "edge",
                        "server": server[0],
                        "servers": server,
                        "deployment": deployment,
                        "spool": str(spool_path),
                    }
                )
            else:
                err_console().print(
                    f"Edge: deployment {deployment} -> {', '.join(server)} (spool {spool_path}); Ctrl-C stops"
                )
            try:
                stop.wait()
            finally:
                sup.stop()
                beats.close()
                signal.signal(signal.SIGINT, old)
            return

        from overt.api import server as http_server
        from overt.deployments.sinks import StoreAlertSink

        app = http_server.build_app(
            store_,
            d,
            host=host,
            insecure_cookies=insecure_cookies,
            second_person=second_person,
            trusted_proxies=tuple(trusted_proxy),
            engine_factory=st.engine,
        )
        svc = app.state.services
        sup = PipelineSupervisor(
            store_,
            deployment,
            source,
            engine_factory=svc.engine,
            sink_factory=lambda: StoreAlertSink(svc.alerts, deployment, notifier=svc.notifier, live=svc.live),
            live=svc.live,
            pipeline_config=pipeline_cfg,
            engine_config=cfg.engine,
            source_config=cfg.sources,
            realtime=realtime,
        ).start()
        if as_json:
            print_json({"mode": "local", "url": f"http://{host}:{port}", "deployment": deployment})
        else:
            err_console().print(
                f"Overt console on [bold]http://{host}:{port}[/], deployment {deployment} (Ctrl-C stops)"
            )
        try:
            http_server.serve(app, host, port)
        finally:
            sup.stop()
