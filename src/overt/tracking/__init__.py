"""Face tracking: stable ids across frames so that decisions are made per track, not per frame."""

from __future__ import annotations

from overt.tracking.tracker import IouTracker, TrackedFace, TrackUpdate, iou_matrix

__all__ = ["IouTracker", "TrackUpdate", "TrackedFace", "iou_matrix"]
