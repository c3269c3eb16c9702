"""``overt watch``: the live pipeline on one or more sources against a watch-list folder."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import typer
from rich.live import Live
from rich.text import Text

from overt.alerts import AlertSink, JsonlSink, StreamSink, WebhookSink
from overt.cli._common import JSON_OPTION, err_console, print_json, state
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, open_store
from overt.cli.watchlist import print_report, report_json
from overt.deployments.service import DeploymentService
from overt.errors import ConfigError, GovernanceError, InputError
from overt.pipeline import Counters, Pipeline
from overt.sources import open_source
from overt.sources.base import FrameSource
from overt.watchlist import enrol_folder
from overt.watchlist.enrol import EnrolmentReport


def status_line(c: Counters) -> Text:
    lat = "-" if c.alert_latency_ms_p95 is None else f"{c.alert_latency_ms_p50:.0f}/{c.alert_latency_ms_p95:.0f} ms"
    return Text(
        f"{c.fps:5.1f} fps | frames {c.frames} | dropped {c.frames_dropped} | faces {c.faces_seen} "
        f"(+{c.faces_unrecognisable} unrecognisable) | "
        f"tracks {c.tracks_active} active / {c.tracks_started} | alerts {c.alerts} | latency p50/p95 {lat} | "
        f"cameras done {c.cameras_done}/{c.cameras}"
    )


def annotate_paths(out: Path, camera_ids: list[str]) -> dict[str, Path]:
    if len(camera_ids) == 1:
        return {camera_ids[0]: out}
    return {cid: out.with_name(f"{out.stem}-{cid}{out.suffix}") for cid in camera_ids}


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
        webhook: str | None = typer.Option(None, "--webhook", help="POST each alert as JSON to this URL."),
        webhook_spool: Path | None = typer.Option(
            None, "--webhook-spool", help="Undelivered webhook alerts wait here (default: beside the JSONL)."
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
        still_active: Callable[[], bool] = lambda: True  # noqa: E731
        deployments: DeploymentService | None = None
        if deployment is not None:
            from overt.alerts.review import AlertService
            from overt.api.supervisor import StoreAlertSink, deployment_pipeline_config, snapshot_gallery

            store, _ = open_store(data_dir, database_url)
            deployments = DeploymentService(store)
            if not deployments.is_active(deployment):  # also applies the automatic stop at the end time
                raise GovernanceError(
                    f"deployment {deployment} is not active: authorise it and start it first (overt deployment start)"
                )
            gallery = snapshot_gallery(store, deployment, backend=cfg.pipeline.gallery_backend)
            pipeline_config = deployment_pipeline_config(store, deployment, cfg.pipeline)
            sinks.append(StoreAlertSink(AlertService(store), deployment))
            dep_id, svc = deployment, deployments
            still_active = lambda: svc.is_active(dep_id)  # noqa: E731
        elif watchlist is not None:
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
        camera_ids = [f"cam-{i}" for i in range(1, len(source) + 1)]
        if annotate is not None and annotate.suffix.lower() not in (".mp4", ".avi", ".mkv", ".mov"):
            raise ConfigError("--annotate needs a video file name (.mp4, .avi, .mkv or .mov)")
        if alerts_jsonl is not None:
            sinks.append(JsonlSink(alerts_jsonl))
        if not as_json:
            sinks.append(StreamSink(sys.stdout))
        if webhook:
            spool = webhook_spool or (
                alerts_jsonl.with_name(alerts_jsonl.name + ".webhook-spool")
                if alerts_jsonl is not None
                else Path("overt-webhook-spool.jsonl")
            )
            sinks.append(WebhookSink(webhook, spool))
        sources: list[FrameSource] = []
        try:
            for uri, cid in zip(source, camera_ids, strict=True):
                sources.append(open_source(uri, camera_id=cid, realtime=realtime, config=cfg.sources))
            pipeline = Pipeline(
                sources,
                engine,
                gallery,
                sinks,
                config=pipeline_config,
                annotate=annotate_paths(annotate, camera_ids) if annotate else None,
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
            for s in sources:
                s.close()
            for sink in sinks:
                sink.close()
        if deployments is not None and deployment is not None:
            deployments.record_faces_processed(deployment, counters.tracks_started)
        summary: dict[str, object] = {
            "interrupted": interrupted.is_set(),
            "min_similarity": pipeline.min_similarity,
            "counters": counters.as_dict(),
            "alerts_jsonl": None if alerts_jsonl is None else str(alerts_jsonl),
            "deployment": deployment,
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
                + (f"; rejected enrolment images: {len(report.rejected)}" if report is not None else "")
            )
        if interrupted.is_set():
            raise typer.Exit(130)


def _follow(
    pipeline: Pipeline, stop: threading.Event, *, show: bool, still_active: Callable[[], bool] = lambda: True
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
            if not still_active():
                return False
        return True

    if not (show and con.is_terminal):
        while running():
            pass
        return pipeline.close()
    with Live(status_line(pipeline.counters()), console=con, refresh_per_second=4) as live:
        while running():
            live.update(status_line(pipeline.counters()))
        counters = pipeline.close()
        live.update(status_line(counters))
    return counters
