"""Pure domain core: small frozen, validated types. No cv2, onnxruntime or database imports."""

from __future__ import annotations

from overt.domain.detections import FaceDetections
from overt.domain.faces import Face
from overt.domain.frames import Frame
from overt.domain.quality import FaceQuality, QualityGate, QualityVerdict
from overt.domain.templates import Template, cosine_similarity

__all__ = [
    "Face",
    "FaceDetections",
    "FaceQuality",
    "Frame",
    "QualityGate",
    "QualityVerdict",
    "Template",
    "cosine_similarity",
]
