"""Video evaluation: run clips through the live pipeline against a watch list made from stills.

Manifest (CSV, paths relative to the manifest's folder), one row per (video, subject who
appears in it)::

    video,subject,stills
    clips/a.mp4,s01,stills/s01_a.jpg;stills/s01_b.jpg
    clips/b.mp4,,                       <- a video in which no enrolled subject appears
    ,s09,stills/s09.jpg                 <- enrolled, appears in no video (a distractor)

Every subject with stills is on the watch list; its stills are the union over its rows. Per
video the report gives the enrolled subjects alerted (true), missed, the false alerts (alerts
naming a subject who is not listed for that video), and the faces and frames processed.

The live system is reached through :class:`VideoRunner` (the adapter point): a callable that
runs one video against a gallery and returns its alerts and counters. :func:`pipeline_runner`
adapts :class:`overt.pipeline.runner.Pipeline`; tests use a fake.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from overt.errors import InputError, OvertError
from overt.evaluation.identify import EmbeddedImage

if TYPE_CHECKING:
    from overt.config import PipelineConfig
    from overt.domain.alerts import Alert
    from overt.vision.engine import FaceEngine


@dataclass(frozen=True, slots=True)
class ManifestVideo:
    video: Path
    subjects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VideoManifest:
    videos: tuple[ManifestVideo, ...]
    stills: Mapping[str, tuple[Path, ...]]


def read_manifest(path: str | Path) -> VideoManifest:
    mp = Path(path)
    base = mp.parent
    try:
        with mp.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{mp}: cannot read manifest: {exc}") from exc
    if not rows:
        raise InputError(f"{mp}: empty manifest")
    cols = {c.strip().lower(): c for c in rows[0] if c is not None}
    if not {"video", "subject", "stills"} <= set(cols):
        raise InputError(f"{mp}: needs columns video,subject,stills (found: {', '.join(cols)})")

    def resolve(raw: str) -> Path:
        p = Path(raw.strip())
        return p if p.is_absolute() else base / p

    order: list[Path] = []
    appear: dict[Path, list[str]] = {}
    stills: dict[str, list[Path]] = {}
    for n, row in enumerate(rows, start=2):
        video = (row.get(cols["video"]) or "").strip()
        subject = (row.get(cols["subject"]) or "").strip()
        still_list = [s for s in (row.get(cols["stills"]) or "").split(";") if s.strip()]
        if not video and not subject:
            raise InputError(f"{mp}: line {n}: needs a video or a subject")
        if subject:
            stills.setdefault(subject, [])
            for s in still_list:
                sp = resolve(s)
                if sp not in stills[subject]:
                    stills[subject].append(sp)
        elif still_list:
            raise InputError(f"{mp}: line {n}: stills without a subject")
        if video:
            vp = resolve(video)
            if vp not in appear:
                appear[vp] = []
                order.append(vp)
            if subject and subject not in appear[vp]:
                appear[vp].append(subject)
    missing = sorted(s for s, st in stills.items() if not st)
    if missing:
        raise InputError(f"{mp}: {len(missing)} subject(s) have no enrolment stills")
    if not order:
        raise InputError(f"{mp}: no videos")
    return VideoManifest(
        videos=tuple(ManifestVideo(v, tuple(appear[v])) for v in order),
        stills={s: tuple(p) for s, p in stills.items()},
    )


@dataclass(frozen=True, slots=True)
class VideoAlert:
    """One alert raised while a video ran: which subject, how similar, when."""

    subject: str
    similarity: float
    pts_s: float
    track_id: int


@dataclass(frozen=True, slots=True)
class VideoRun:
    """What the live system reports for one video: its alerts and counters (no faces)."""

    alerts: tuple[VideoAlert, ...]
    faces_processed: int
    frames: int
    probes_embedded: int = 0
    tracks: int = 0


class VideoRunner(Protocol):
    """The adapter point: run ``video`` against a gallery of (subject, template) rows."""

    def __call__(self, video: Path, subjects: Sequence[str], templates: npt.NDArray[np.float32]) -> VideoRun: ...


@dataclass(frozen=True, slots=True)
class VideoOutcome:
    video: Path
    expected: tuple[str, ...]
    true_alerts: tuple[str, ...]
    missed: tuple[str, ...]
    false_alert_subjects: tuple[str, ...]
    false_alerts: int
    alerts: int
    faces_processed: int
    frames: int
    probes_embedded: int
    error: str | None = None

    def to_json(self, root: Path | None = None) -> dict[str, object]:
        v = self.video
        if root is not None:
            with contextlib.suppress(ValueError):
                v = v.relative_to(root)
        return {
            "video": v.as_posix(),
            "expected": list(self.expected),
            "true_alerts": list(self.true_alerts),
            "missed": list(self.missed),
            "false_alert_subjects": list(self.false_alert_subjects),
            "false_alerts": self.false_alerts,
            "alerts": self.alerts,
            "faces_processed": self.faces_processed,
            "frames": self.frames,
            "probes_embedded": self.probes_embedded,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class VideoEvaluation:
    outcomes: tuple[VideoOutcome, ...]
    subjects_enrolled: int
    stills: int
    stills_without_face: tuple[Path, ...]
    subjects_without_template: tuple[str, ...]
    runner: str = "pipeline"
    notes: tuple[str, ...] = field(default=())

    def totals(self) -> dict[str, object]:
        ok = [o for o in self.outcomes if o.error is None]
        expected = sum(len(o.expected) for o in ok)
        true = sum(len(o.true_alerts) for o in ok)
        fa = sum(o.false_alerts for o in ok)
        faces = sum(o.faces_processed for o in ok)
        return {
            "videos": len(self.outcomes),
            "videos_failed": len(self.outcomes) - len(ok),
            "appearances": expected,
            "detected_appearances": true,
            "appearance_tpir": round(true / expected, 6) if expected else None,
            "missed_appearances": expected - true,
            "false_alerts": fa,
            "faces_processed": faces,
            "frames": sum(o.frames for o in ok),
            "false_alerts_per_1000_faces": round(1000.0 * fa / faces, 6) if faces else None,
        }

    def to_json(self, root: Path | None = None) -> dict[str, object]:
        return {
            "runner": self.runner,
            "subjects_enrolled": self.subjects_enrolled,
            "stills": self.stills,
            "stills_without_face": [str(p) for p in self.stills_without_face],
            "subjects_without_template": list(self.subjects_without_template),
            "totals": self.totals(),
            "videos": [o.to_json(root) for o in self.outcomes],
            "notes": list(self.notes),
        }


def evaluate_videos(
    manifest: VideoManifest,
    embed: Callable[[Path], EmbeddedImage],
    runner: VideoRunner,
    *,
    runner_name: str = "pipeline",
    progress: Callable[[int, int], None] | None = None,
) -> VideoEvaluation:
    """Enrol every subject's stills once, then run each video and score its alerts.

    A subject counts once per video: alerted (true) if any alert names it, else missed. Every
    alert naming a subject not listed for the video is a false alert. A video the runner fails
    on is reported with its error and left out of the totals.
    """
    subjects: list[str] = []
    rows: list[npt.NDArray[np.float32]] = []
    failed: list[Path] = []
    for subject, paths in sorted(manifest.stills.items()):
        for p in paths:
            e = embed(p)
            if e.vector is None:
                failed.append(p)
            else:
                subjects.append(subject)
                rows.append(e.vector)
    no_template = tuple(sorted(set(manifest.stills) - set(subjects)))
    if not rows:
        raise InputError("no enrolment still yielded a face: nothing to search for")
    templates = np.stack(rows).astype(np.float32)
    outcomes = []
    for i, mv in enumerate(manifest.videos):
        try:
            run = runner(mv.video, tuple(subjects), templates)
        except OvertError as exc:
            outcomes.append(VideoOutcome(mv.video, mv.subjects, (), mv.subjects, (), 0, 0, 0, 0, 0, error=str(exc)))
        else:
            alerted = {a.subject for a in run.alerts}
            expected = set(mv.subjects)
            false = [a for a in run.alerts if a.subject not in expected]
            outcomes.append(
                VideoOutcome(
                    video=mv.video,
                    expected=mv.subjects,
                    true_alerts=tuple(s for s in mv.subjects if s in alerted),
                    missed=tuple(s for s in mv.subjects if s not in alerted),
                    false_alert_subjects=tuple(sorted({a.subject for a in false})),
                    false_alerts=len(false),
                    alerts=len(run.alerts),
                    faces_processed=run.faces_processed,
                    frames=run.frames,
                    probes_embedded=run.probes_embedded,
                )
            )
        if progress is not None:
            progress(i + 1, len(manifest.videos))
    return VideoEvaluation(
        outcomes=tuple(outcomes),
        subjects_enrolled=len(manifest.stills),
        stills=sum(len(p) for p in manifest.stills.values()),
        stills_without_face=tuple(failed),
        subjects_without_template=no_template,
        runner=runner_name,
    )


class _CollectSink:
    """Keeps what the evaluation needs from each alert (subject, similarity, time); no images."""

    def __init__(self) -> None:
        self.alerts: list[VideoAlert] = []

    def emit(self, alert: Alert) -> None:
        self.alerts.append(VideoAlert(alert.subject, float(alert.similarity), float(alert.pts_s), alert.track_id))

    def close(self, timeout_s: float = 5.0) -> None:
        return None


def pipeline_runner(
    engine: FaceEngine,
    config: PipelineConfig | None = None,
) -> VideoRunner:
    """Adapter: the live :class:`~overt.pipeline.runner.Pipeline` reading a file (every frame)."""
    from overt.config import PipelineConfig as _PipelineConfig
    from overt.matching.gallery import build_gallery
    from overt.pipeline.compose import compose_pipeline

    cfg = config or _PipelineConfig()

    def run(video: Path, subjects: Sequence[str], templates: npt.NDArray[np.float32]) -> VideoRun:
        if not video.is_file():
            raise InputError(f"{video}: video not found")
        gallery = build_gallery(
            list(subjects),
            templates,
            model_id=engine.embedder.model_id,
            backend=cfg.gallery_backend,
            ann_min_templates=cfg.ann_min_templates,
        )
        sink = _CollectSink()
        counters = compose_pipeline([str(video)], engine, gallery, [sink], config=cfg).run()
        return VideoRun(
            alerts=tuple(sink.alerts),
            faces_processed=counters.faces_processed,
            frames=counters.frames,
            probes_embedded=counters.probes_embedded,
            tracks=counters.tracks_started,
        )

    return run
