"""``overt watch``: the live pipeline on one or more sources against a watch-list folder."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

import typer
from rich.live import Live
from rich.text import Text

from overt.alerts import AlertSink, JsonlSink, StreamSink, WebhookSink
from overt.alerts.spool import data_dir_spool
from overt.cli._common import JSON_OPTION, err_console, print_json, state
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, open_store
from overt.cli.watchlist import print_report, report_json
from overt.deployments.service import CalibrationSummary, DeploymentService
from overt.errors import ConfigError, GovernanceError, InputError
from overt.pipeline import Counters, Pipeline
from overt.pipeline.compose import annotate_paths, camera_ids, compose_pipeline
from overt.sources.integrity import IntegrityStatus
from overt.watchlist import enrol_folder
from overt.watchlist.enrol import EnrolmentReport


def health_text(integrity: Sequence[IntegrityStatus]) -> str:
    """Camera health for the status line: ``cam-1 ok``, or the raised flags in capitals."""
    return ", ".join(f"{s.camera_id} {'+'.join(f.upper() for f in s.active) if s.suspect else 'ok'}" for s in integrity)


def status_line(c: Counters, integrity: Sequence[IntegrityStatus] = ()) -> Text:
    lat = "-" if c.alert_latency_ms_p95 is None else f"{c.alert_latency_ms_p50:.0f}/{c.alert_latency_ms_p95:.0f} ms"
    return Text(
        f"{c.fps:5.1f} fps | frames {c.frames} | dropped {c.frames_dropped} | faces {c.faces_seen} "
        f"(searched {c.faces_processed}) "
        f"(+{c.faces_unrecognisable} unrecognisable) | "
        f"tracks {c.tracks_active} active / {c.tracks_started} | alerts {c.alerts} | latency p50/p95 {lat} | "
        f"cameras done {c.cameras_done}/{c.cameras}" + (f" | health {health_text(integrity)}" if integrity else "")
    )


def register(app: typer.Typer) -> None:
    @app.command("watch")
    def watch_cmd(
        ctx: typer.Context,
        source: list[str] = typer.Option(
            ..., "--source", help="Video file, image folder, rtsp://, http(s):// or webcam:N."
        ),
        watchlist: Path | None = typer.Option(
            None, "--watchlist", help="Folder with one sub-folder of images per subject (simple, unmanaged list)."
        ),
        deployment: int | None = typer.Option(
            None,
            "--deployment",
            min=1,
            help="Watch for this ACTIVE deployment: its sealed watch-list snapshot, alerts into its store; "
            "stops when the deployment stops or reaches its end time.",
        ),
        data_dir: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        alerts_jsonl: Path | None = typer.Option(
            None, "--alerts-jsonl", help="Append alerts here, one JSON line each (required with --watchlist)."
        ),
        annotate: Path | None = typer.Option(
            None, "--annotate", help="Write a video with bystanders blurred and alerts boxed (one per camera)."
        ),
        realtime: bool = typer.Option(False, "--realtime", help="Pace video files at their native frame rate."),
        webhook: str | None = typer.Option(
            None,
            "--webhook",
            help="POST each alert as JSON to this URL; undelivered ones wait sealed in <data-dir>/spool "
            "(needs an initialised data directory).",
        ),
        include_crops: bool = typer.Option(
            False,
            "--include-crops",
            help="Put the probe crop and context frame (biometric data, in clear) in the JSONL and webhook bodies.",
        ),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Watch the sources; alert when a tracked face matches the watch list. Ctrl-C stops cleanly."""
        st = state(ctx)
        cfg = st.config
        if (watchlist is None) == (deployment is None):
            raise ConfigError("give exactly one of --watchlist DIR or --deployment ID")
        if watchlist is not None and alerts_jsonl is None:
            raise ConfigError("--watchlist needs --alerts-jsonl FILE")
        engine = st.engine()
        sinks: list[AlertSink] = []
        report: EnrolmentReport | None = None
        calibration: CalibrationSummary | None = None
        still_active: Callable[[Pipeline], bool] = lambda p: True  # noqa: E731
        deployments: DeploymentService | None = None
        if deployment is not None:
            from overt.alerts.ingest_evidence import node_key
            from overt.alerts.review import AlertService
            from overt.deployments.gallery import deployment_pipeline_config, load_live_snapshot
            from overt.deployments.sinks import StoreAlertSink

            store, d_dir = open_store(data_dir, database_url)
            deployments = DeploymentService(store, data_dir=d_dir)
            if not deployments.is_active(deployment):  # also applies the automatic stop at the end time
                raise GovernanceError(
                    f"deployment {deployment} is not active: authorise it and start it first (overt deployment start)"
                )
            calibration = deployments.calibration(deployment)
            snap = load_live_snapshot(store, deployment, backend=cfg.pipeline.gallery_backend)
            gallery = snap.gallery()
            pipeline_config = deployment_pipeline_config(store, deployment, cfg.pipeline)
            sinks.append(StoreAlertSink(AlertService(store), deployment))
            signer = node_key(store)
            snapshot_id: str | None = f"deployment:{deployment}"
            dep_id, svc = deployment, deployments

            def still_active(p: Pipeline) -> bool:
                snap.apply_revocations(p, force=True)  # removed watch-list entries stop matching at once
                return svc.is_active(dep_id)

        elif watchlist is not None:
            signer, snapshot_id = None, None
            pipeline_config = cfg.pipeline
            report = enrol_folder(watchlist, engine)
            if not report.accepted:
                if not as_json:
                    print_report(report)
                raise InputError(f"no image in {watchlist} could be enrolled: the watch list is empty")
            gallery = report.watchlist.gallery(
                backend=cfg.pipeline.gallery_backend, ann_min_templates=cfg.pipeline.ann_min_templates
            )
        else:  # excluded above; keeps the type checker sure `gallery` is bound
            raise ConfigError("give exactly one of --watchlist DIR or --deployment ID")
        if annotate is not None:
            annotate_paths(annotate, camera_ids(len(source)))  # validates the name before any work
        if include_crops:
            err_console().print(
                "[yellow]warning[/yellow]: --include-crops writes face images (biometric data) in clear to "
                "the alert file and webhook bodies; protect and delete them yourself"
            )
        if alerts_jsonl is not None:
            sinks.append(JsonlSink(alerts_jsonl, include_images=include_crops))
        if not as_json:
            sinks.append(StreamSink(sys.stdout))
        if webhook:
            # Undelivered alerts wait sealed in <data-dir>/spool/webhook.jsonl: no data dir, no webhook.
            spool_store, spool_root = open_store(data_dir, database_url)
            with spool_store.transaction() as tx:
                spool = data_dir_spool(spool_root, "webhook", tx.vault.spool_key())
            sinks.append(WebhookSink(webhook, spool, include_images=include_crops))
        try:
            pipeline = compose_pipeline(
                source,
                engine,
                gallery,
                sinks,
                config=pipeline_config,
                source_config=cfg.sources,
                realtime=realtime,
                annotate=annotate,
                signer=signer,
                snapshot_id=snapshot_id,
            )
            stop = threading.Event()
            interrupted = threading.Event()

            def on_sigint(signum: int, frame: FrameType | None) -> None:
                interrupted.set()
                stop.set()

            in_main = threading.current_thread() is threading.main_thread()
            previous = signal.signal(signal.SIGINT, on_sigint) if in_main else None
            try:
                pipeline.start()
                counters = _follow(pipeline, stop, show=not as_json, still_active=still_active)
            finally:
                pipeline.close()
                if previous is not None:
                    signal.signal(signal.SIGINT, previous)
        finally:
            for sink in sinks:
                sink.close()
        if deployments is not None and deployment is not None:
            deployments.record_faces_processed(deployment, counters.faces_processed)
        summary: dict[str, object] = {
            "interrupted": interrupted.is_set(),
            "min_similarity": pipeline.min_similarity,
            "counters": counters.as_dict(),
            "integrity": [s.to_json() for s in pipeline.integrity()],
            "alerts_jsonl": None if alerts_jsonl is None else str(alerts_jsonl),
            "deployment": deployment,
            "calibration": None if calibration is None else calibration.as_dict(),
            "watchlist": None if report is None else report_json(report),
        }
        if as_json:
            print_json(summary)
        else:
            con = err_console()
            fps = counters.frames / max(counters.elapsed_s, 1e-9)
            con.print(
                f"[bold]watch[/bold] {'interrupted' if interrupted.is_set() else 'finished'}: "
                f"{counters.frames} frames in {counters.elapsed_s:.1f} s ({fps:.1f} fps), "
                f"{counters.faces_seen} faces ({counters.faces_unrecognisable} more unrecognisable) in "
                f"{counters.tracks_started} tracks, {counters.alerts} alert(s), "
                f"{counters.frames_dropped} frame(s) dropped"
                + (f"; camera health: {health_text(pipeline.integrity())}" if pipeline.integrity() else "")
                + (f"; rejected enrolment images: {len(report.rejected)}" if report is not None else "")
            )
            if calibration is not None:
                c = calibration
                con.print(
                    f"calibration profile [bold]{c.profile}[/bold]: threshold {c.min_similarity:.4f}; "
                    f"false alerts per 1,000 faces expected {c.expected_false_alerts_per_1000_faces:.3g} "
                    f"(measured {c.measured_false_alerts_per_1000_faces:.3g} at {c.watchlist_size_reached} subjects); "
                    f"{counters.faces_processed} faces processed (searched against the watch list)"
                )
        if interrupted.is_set():
            raise typer.Exit(130)


def _follow(
    pipeline: Pipeline,
    stop: threading.Event,
    *,
    show: bool,
    still_active: Callable[[Pipeline], bool] = lambda p: True,
) -> Counters:
    """Wait for the pipeline (or the stop event, or the deployment's end), with a live status line."""
    con = err_console()
    last_check = time.monotonic()

    def running() -> bool:
        nonlocal last_check
        if pipeline.wait(0.25) or stop.is_set():
            return False
        if time.monotonic() - last_check >= 1.0:
            last_check = time.monotonic()
            if not still_active(pipeline):
                return False
        return True

    if not (show and con.is_terminal):
        while running():
            pass
        return pipeline.close()
    with Live(status_line(pipeline.counters(), pipeline.integrity()), console=con, refresh_per_second=4) as live:
        while running():
            live.update(status_line(pipeline.counters(), pipeline.integrity()))
        counters = pipeline.close()
        live.update(status_line(counters, pipeline.integrity()))
    return counters
