"""``overt watch``: the live pipeline on one or more sources against a watch-list folder."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import typer
from rich.live import Live
from rich.text import Text

from overt.alerts import AlertSink, JsonlSink, StreamSink, WebhookSink
from overt.cli._common import JSON_OPTION, err_console, print_json, state
from overt.cli.watchlist import print_report, report_json
from overt.errors import ConfigError, InputError
from overt.pipeline import Counters, Pipeline
from overt.sources import open_source
from overt.sources.base import FrameSource
from overt.watchlist import enrol_folder


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
        watchlist: Path = typer.Option(..., "--watchlist", help="Folder with one sub-folder of images per subject."),
        alerts_jsonl: Path = typer.Option(..., "--alerts-jsonl", help="Append alerts here, one JSON line each."),
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
        engine = st.engine()
        report = enrol_folder(watchlist, engine)
        if not report.accepted:
            if not as_json:
                print_report(report)
            raise InputError(f"no image in {watchlist} could be enrolled: the watch list is empty")
        gallery = report.watchlist.gallery(
            backend=cfg.pipeline.gallery_backend, ann_min_templates=cfg.pipeline.ann_min_templates
        )
        camera_ids = [f"cam-{i}" for i in range(1, len(source) + 1)]
        if annotate is not None and annotate.suffix.lower() not in (".mp4", ".avi", ".mkv", ".mov"):
            raise ConfigError("--annotate needs a video file name (.mp4, .avi, .mkv or .mov)")
        sinks: list[AlertSink] = [JsonlSink(alerts_jsonl)]
        if not as_json:
            sinks.append(StreamSink(sys.stdout))
        if webhook:
            spool = webhook_spool or alerts_jsonl.with_name(alerts_jsonl.name + ".webhook-spool")
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
                config=cfg.pipeline,
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
                counters = _follow(pipeline, stop, show=not as_json)
            finally:
                pipeline.close()
                if previous is not None:
                    signal.signal(signal.SIGINT, previous)
        finally:
            for s in sources:
                s.close()
            for sink in sinks:
                sink.close()
        summary: dict[str, object] = {
            "interrupted": interrupted.is_set(),
            "min_similarity": pipeline.min_similarity,
            "counters": counters.as_dict(),
            "alerts_jsonl": str(alerts_jsonl),
            "watchlist": report_json(report),
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
                f"{counters.frames_dropped} frame(s) dropped; "
                f"rejected enrolment images: {len(report.rejected)}"
            )
        if interrupted.is_set():
            raise typer.Exit(130)


def _follow(pipeline: Pipeline, stop: threading.Event, *, show: bool) -> Counters:
    """Wait for the pipeline (or the stop event), with a live status line on a terminal."""
    con = err_console()
    if not (show and con.is_terminal):
        while not pipeline.wait(0.25) and not stop.is_set():
            pass
        return pipeline.close()
    with Live(status_line(pipeline.counters()), console=con, refresh_per_second=4) as live:
        while not pipeline.wait(0.25) and not stop.is_set():
            live.update(status_line(pipeline.counters()))
        counters = pipeline.close()
        live.update(status_line(counters))
    return counters
