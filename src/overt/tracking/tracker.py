"""A ByteTrack-style IoU tracker for faces.

Association in two passes (Zhang et al., "ByteTrack", 2022): confident detections first, then
the remaining tracks try the low-score detections (a face blurred by motion or half turned keeps
its id instead of starting a new track). Boxes are predicted with a constant velocity. A track
that misses more than ``max_missed_frames`` frames ends, and all its state is dropped.
New tracks start only from confident detections.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from overt.domain._validate import as_float32
from overt.domain.detections import FaceDetections
from overt.errors import ConfigError, InputError


def iou_matrix(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Intersection over union of every box in ``a`` (N, 4) with every box in ``b`` (M, 4)."""
    if a.size == 0 or b.size == 0:
        return np.zeros((a.shape[0], b.shape[0]), np.float32)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    out: npt.NDArray[np.float32] = np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0).astype(np.float32)
    return out


def centre_closeness(
    a: npt.NDArray[np.float32], b: npt.NDArray[np.float32], max_shift: float
) -> npt.NDArray[np.float32]:
    """1 - (centre distance / (max_shift * box side)) for boxes of similar size (ratio 0.6-1.6), else 0."""
    if a.size == 0 or b.size == 0:
        return np.zeros((a.shape[0], b.shape[0]), np.float32)
    ca = (a[:, :2] + a[:, 2:]) / 2
    cb = (b[:, :2] + b[:, 2:]) / 2
    side_a = np.sqrt(np.maximum((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]), 1e-6))
    side_b = np.sqrt(np.maximum((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]), 1e-6))
    dist = np.linalg.norm(ca[:, None, :] - cb[None, :, :], axis=2) / (max_shift * side_a[:, None])
    ratio = side_b[None, :] / side_a[:, None]
    ok = (ratio > 0.6) & (ratio < 1.6)
    out: npt.NDArray[np.float32] = np.where(ok, np.clip(1.0 - dist, 0.0, 1.0), 0.0).astype(np.float32)
    return out


def _greedy_match(iou: npt.NDArray[np.float32], min_iou: float) -> list[tuple[int, int]]:
    """Pairs (row, col) by decreasing IoU, each row and column used once, IoU >= ``min_iou``."""
    pairs: list[tuple[int, int]] = []
    if iou.size == 0:
        return pairs
    rows, cols = np.nonzero(iou >= min_iou)
    order = np.argsort(-iou[rows, cols], kind="stable")
    used_r: set[int] = set()
    used_c: set[int] = set()
    for k in order:
        r, c = int(rows[k]), int(cols[k])
        if r in used_r or c in used_c:
            continue
        used_r.add(r)
        used_c.add(c)
        pairs.append((r, c))
    return pairs


@dataclass(frozen=True, slots=True, eq=False)
class TrackedFace:
    """A track seen in this frame. ``detection_index`` points into this frame's detections.

    ``first_seen_monotonic_s``/``first_pts_s`` are when the track started (for alert latency);
    ``hits`` counts frames with a matched detection.
    """

    track_id: int
    detection_index: int
    xyxy: npt.NDArray[np.float32]
    score: float
    hits: int
    is_new: bool
    first_frame_index: int
    first_pts_s: float
    first_seen_monotonic_s: float

    def __post_init__(self) -> None:
        if self.track_id < 1 or self.detection_index < 0 or self.hits < 1:
            raise InputError("invalid tracked face")
        object.__setattr__(self, "xyxy", as_float32("xyxy", self.xyxy, (4,)))


@dataclass(frozen=True, slots=True, eq=False)
class TrackUpdate:
    """What the tracker says about one frame: matched tracks, coasting tracks, and tracks that ended.

    ``coasting`` are tracks not detected in this frame but still alive (predicted boxes, used to
    keep bystanders blurred in annotated video); ``ended`` are ids whose state is gone.
    """

    camera_id: str
    frame_index: int
    detected: bool
    faces: tuple[TrackedFace, ...]
    coasting_ids: tuple[int, ...]
    coasting_xyxy: npt.NDArray[np.float32]
    ended: tuple[int, ...]

    def __post_init__(self) -> None:
        boxes = as_float32("coasting_xyxy", self.coasting_xyxy, (None, 4))
        if boxes.shape[0] != len(self.coasting_ids):
            raise InputError("one coasting box per coasting track id")
        object.__setattr__(self, "coasting_xyxy", boxes)


@dataclass(slots=True)
class _Track:
    track_id: int
    xyxy: npt.NDArray[np.float32]
    velocity: npt.NDArray[np.float32]
    score: float
    hits: int
    missed: int
    first_frame_index: int
    first_pts_s: float
    first_seen_monotonic_s: float
    last_frame_index: int = field(default=0)

    def predicted(self, frame_index: int) -> npt.NDArray[np.float32]:
        steps = max(1, frame_index - self.last_frame_index)
        out: npt.NDArray[np.float32] = (self.xyxy + self.velocity * steps).astype(np.float32)
        return out


class IouTracker:
    """Tracks faces of one camera. Not thread-safe: one tracker per camera, used by one worker.

    ``high_score``: a detection at or above it may start a track (strict below);
    ``low_score``: detections in [low, high) only extend existing tracks;
    ``match_iou``/``low_match_iou``: minimum IoU with the predicted box in each pass;
    ``max_missed_frames``: frames a track survives without a detection;
    ``max_centre_shift``: third pass for boxes that no longer overlap (fast motion, skipped
    detections): a confident detection of similar size whose centre lies within this many box
    sides of a leftover track's prediction continues it.
    """

    def __init__(
        self,
        camera_id: str,
        *,
        high_score: float = 0.5,
        low_score: float = 0.3,
        match_iou: float = 0.3,
        low_match_iou: float = 0.5,
        max_missed_frames: int = 15,
        max_centre_shift: float = 1.0,
    ) -> None:
        if not 0.0 < low_score <= high_score < 1.0:
            raise ConfigError("tracker needs 0 < low_score <= high_score < 1")
        if not 0.0 < match_iou < 1.0 or not 0.0 < low_match_iou < 1.0:
            raise ConfigError("tracker IoU thresholds must lie in (0, 1)")
        if max_missed_frames < 0:
            raise ConfigError("max_missed_frames must be >= 0")
        self.camera_id = camera_id
        self.high_score = high_score
        self.low_score = low_score
        self.match_iou = match_iou
        self.low_match_iou = low_match_iou
        self.max_missed_frames = max_missed_frames
        self.max_centre_shift = max_centre_shift
        self._tracks: list[_Track] = []
        self._next_id = 1
        self.tracks_started = 0

    @property
    def active_count(self) -> int:
        return len(self._tracks)

    def coast(self, frame_index: int) -> TrackUpdate:
        """A frame without detection (detection skipped to save time): tracks keep going, none ends."""
        boxes = [t.predicted(frame_index) for t in self._tracks]
        return TrackUpdate(
            camera_id=self.camera_id,
            frame_index=frame_index,
            detected=False,
            faces=(),
            coasting_ids=tuple(t.track_id for t in self._tracks),
            coasting_xyxy=np.stack(boxes) if boxes else np.zeros((0, 4), np.float32),
            ended=(),
        )

    def update(
        self, detections: FaceDetections, *, frame_index: int, pts_s: float, captured_monotonic_s: float
    ) -> TrackUpdate:
        """Associate this frame's detections with the tracks; start, extend and end tracks."""
        tracks = self._tracks
        scores = detections.scores
        high = np.nonzero(scores >= self.high_score)[0]
        low = np.nonzero((scores >= self.low_score) & (scores < self.high_score))[0]
        predicted = np.stack([t.predicted(frame_index) for t in tracks]) if tracks else np.zeros((0, 4), np.float32)
        assigned: dict[int, int] = {}  # track position -> detection index
        # Pass 1: confident detections against every track.
        for r, c in _greedy_match(iou_matrix(predicted, detections.xyxy[high]), self.match_iou):
            assigned[r] = int(high[c])
        # Pass 2: the tracks left over against the low-score detections.
        left = [i for i in range(len(tracks)) if i not in assigned]
        if left and low.size:
            for r, c in _greedy_match(iou_matrix(predicted[left], detections.xyxy[low]), self.low_match_iou):
                assigned[left[r]] = int(low[c])
        # Pass 3: fast motion or a skipped detection frame can leave no overlap at all; let a
        # confident detection close to a leftover track's prediction, of similar size, continue it.
        left = [i for i in range(len(tracks)) if i not in assigned]
        free_high = np.array([d for d in high if int(d) not in set(assigned.values())], np.intp)
        if left and free_high.size:
            closeness = centre_closeness(predicted[left], detections.xyxy[free_high], self.max_centre_shift)
            for r, c in _greedy_match(closeness, 1e-6):
                assigned[left[r]] = int(free_high[c])
        used = set(assigned.values())
        out: list[TrackedFace] = []
        survivors: list[_Track] = []
        ended: list[int] = []
        coasting: list[npt.NDArray[np.float32]] = []
        coasting_ids: list[int] = []
        for i, t in enumerate(tracks):
            if i in assigned:
                d = assigned[i]
                box = detections.xyxy[d]
                steps = max(1, frame_index - t.last_frame_index)
                t.velocity = (0.6 * t.velocity + 0.4 * (box - t.xyxy) / steps).astype(np.float32)
                t.xyxy = box.copy()
                t.score = float(scores[d])
                t.hits += 1
                t.missed = 0
                t.last_frame_index = frame_index
                survivors.append(t)
                out.append(self._face(t, d, is_new=False))
            else:
                t.missed += 1
                if t.missed > self.max_missed_frames:
                    ended.append(t.track_id)
                else:
                    survivors.append(t)
                    coasting.append(predicted[i])
                    coasting_ids.append(t.track_id)
        for d_np in high:
            d = int(d_np)
            if d in used:
                continue
            t = _Track(
                track_id=self._next_id,
                xyxy=detections.xyxy[d].copy(),
                velocity=np.zeros(4, np.float32),
                score=float(scores[d]),
                hits=1,
                missed=0,
                first_frame_index=frame_index,
                first_pts_s=pts_s,
                first_seen_monotonic_s=captured_monotonic_s,
                last_frame_index=frame_index,
            )
            self._next_id += 1
            self.tracks_started += 1
            survivors.append(t)
            out.append(self._face(t, d, is_new=True))
        self._tracks = survivors
        return TrackUpdate(
            camera_id=self.camera_id,
            frame_index=frame_index,
            detected=True,
            faces=tuple(out),
            coasting_ids=tuple(coasting_ids),
            coasting_xyxy=np.stack(coasting) if coasting else np.zeros((0, 4), np.float32),
            ended=tuple(ended),
        )

    def split(self, face: TrackedFace, *, frame_index: int, pts_s: float, captured_monotonic_s: float) -> TrackedFace:
        """End ``face``'s track here and continue its box as a new track (another person is in it).

        The new track starts at this frame (its first-seen time is now, its hit count 1); the old
        id is gone, so the caller must drop whatever it kept for it. Unknown ids raise ``InputError``.
        """
        for t in self._tracks:
            if t.track_id == face.track_id:
                break
        else:
            raise InputError("no such track")
        t.track_id = self._next_id
        self._next_id += 1
        self.tracks_started += 1
        t.hits = 1
        t.first_frame_index = frame_index
        t.first_pts_s = pts_s
        t.first_seen_monotonic_s = captured_monotonic_s
        return self._face(t, face.detection_index, is_new=True)

    def end_all(self) -> tuple[int, ...]:
        """End every track (the source is exhausted or the pipeline stops); drops their state."""
        ids = tuple(t.track_id for t in self._tracks)
        self._tracks = []
        return ids

    @staticmethod
    def _face(t: _Track, detection_index: int, *, is_new: bool) -> TrackedFace:
        return TrackedFace(
            track_id=t.track_id,
            detection_index=detection_index,
            xyxy=t.xyxy,
            score=t.score,
            hits=t.hits,
            is_new=is_new,
            first_frame_index=t.first_frame_index,
            first_pts_s=t.first_pts_s,
            first_seen_monotonic_s=t.first_seen_monotonic_s,
        )
