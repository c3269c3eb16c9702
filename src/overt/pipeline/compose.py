"""The one composition root of the live pipeline: source URIs + engine + gallery + sinks -> Pipeline.

``overt watch``, ``overt run`` (through the deployment runtime), ``overt eval video`` and
``overt demo`` all build their pipeline here, so they open cameras, name them, pace them and
apply the pipeline settings the same way; so does each worker process of ``overt run --workers N``
(:mod:`overt.pipeline.workers`) for its group of cameras. If anything fails while composing, every source
opened so far is closed before the error propagates: nothing leaks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from overt.alerts.sinks import AlertSink
from overt.config import PipelineConfig, SourceConfig
from overt.errors import ConfigError
from overt.matching.gallery import Gallery
from overt.pipeline.runner import Pipeline
from overt.sources.base import FrameSource
from overt.sources.factory import open_source

if TYPE_CHECKING:
    from overt.crypto.signing import SigningKey
    from overt.vision.engine import FaceEngine

log = logging.getLogger(__name__)

ANNOTATE_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov")


def camera_ids(n: int) -> list[str]:
    """Neutral camera labels ``cam-1..cam-n`` (never derived from a URI, which may hold credentials)."""
    return [f"cam-{i}" for i in range(1, n + 1)]


default_camera_ids = camera_ids


def annotate_paths(out: Path, ids: Sequence[str]) -> dict[str, Path]:
    """One annotated video per camera: ``out`` itself for one camera, ``out-<cam>`` otherwise."""
    if out.suffix.lower() not in ANNOTATE_SUFFIXES:
        raise ConfigError("--annotate needs a video file name (.mp4, .avi, .mkv or .mov)")
    if len(ids) == 1:
        return {ids[0]: out}
    return {cid: out.with_name(f"{out.stem}-{cid}{out.suffix}") for cid in ids}


def close_quietly(sources: Sequence[FrameSource]) -> None:
    for s in sources:
        try:
            s.close()
        except Exception:  # closing must never hide the error being reported
            log.exception("closing camera %s failed", s.camera_id)


def open_cameras(
    uris: Sequence[str],
    *,
    realtime: bool = False,
    config: SourceConfig | None = None,
    ids: Sequence[str] | None = None,
) -> list[FrameSource]:
    """Open one source per URI (``cam-1``... unless ``ids``); on any failure close those already open."""
    if not uris:
        raise ConfigError("the pipeline needs at least one source")
    names = list(ids) if ids is not None else camera_ids(len(uris))
    if len(names) != len(uris):
        raise ConfigError("one camera id per source")
    opened: list[FrameSource] = []
    try:
        for uri, cid in zip(uris, names, strict=True):
            opened.append(open_source(uri, camera_id=cid, realtime=realtime, config=config))
    except BaseException:
        close_quietly(opened)
        raise
    return opened


def compose_pipeline(
    uris: Sequence[str],
    engine: FaceEngine,
    gallery: Gallery,
    sinks: Sequence[AlertSink],
    *,
    config: PipelineConfig | None = None,
    source_config: SourceConfig | None = None,
    realtime: bool = False,
    annotate: Path | None = None,
    signer: SigningKey | None = None,
    snapshot_id: str | None = None,
    camera_ids: Sequence[str] | None = None,
) -> Pipeline:
    """The pipeline over ``uris`` (not started). The caller owns the sinks; the pipeline closes
    the sources when it is closed, and here when composing fails. ``signer`` signs every alert
    (signed evidence); ``snapshot_id`` names the watch-list snapshot in the signed record.
    ``camera_ids``: the cameras' names when not ``cam-1..cam-n`` (a worker process's group of a
    larger deployment)."""
    ids = list(camera_ids) if camera_ids is not None else default_camera_ids(len(uris))
    paths = annotate_paths(annotate, ids) if annotate is not None else None
    sources = open_cameras(uris, realtime=realtime, config=source_config, ids=ids)
    try:
        return Pipeline(
            sources, engine, gallery, sinks, config=config, annotate=paths, signer=signer, snapshot_id=snapshot_id
        )
    except BaseException:
        close_quietly(sources)
        raise


def compose_on_sources(
    sources: Sequence[FrameSource],
    engine: FaceEngine,
    gallery: Gallery,
    sinks: Sequence[AlertSink],
    *,
    config: PipelineConfig | None = None,
) -> Pipeline:
    """The pipeline over sources already built (evaluation reads a file source per clip)."""
    try:
        return Pipeline(sources, engine, gallery, sinks, config=config)
    except BaseException:
        close_quietly(sources)
        raise
