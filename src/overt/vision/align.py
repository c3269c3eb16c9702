"""Five-point similarity alignment onto the ArcFace 112x112 template."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from overt.errors import InputError

ARCFACE_TEMPLATE_112 = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float64,
)
"""Landmark positions (left eye, right eye, nose, left mouth, right mouth) in a 112 px crop."""


def umeyama_similarity(src: npt.NDArray[np.floating], dst: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Least-squares similarity transform (rotation, uniform scale, translation) mapping src to dst.

    Umeyama (1991); returns the 2x3 affine matrix. Same result as scikit-image's
    ``SimilarityTransform.estimate`` used by InsightFace.
    """
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    n = src.shape[0]
    src_mean = src.mean(axis=0)
    dst_mean = dst.mean(axis=0)
    src_c = src - src_mean
    dst_c = dst - dst_mean
    cov = dst_c.T @ src_c / n
    d = np.ones(2)
    if np.linalg.det(cov) < 0:
        d[1] = -1.0
    u, s, vt = np.linalg.svd(cov)
    rot = u @ np.diag(d) @ vt
    var_src = float((src_c**2).sum() / n)
    if var_src <= 1e-12:
        raise InputError("degenerate landmarks: all points coincide")
    scale = float((s * d).sum() / var_src)
    m = np.zeros((2, 3), np.float64)
    m[:, :2] = scale * rot
    m[:, 2] = dst_mean - scale * rot @ src_mean
    return m


def arcface_matrix(landmarks5: npt.NDArray[np.floating], size_px: int = 112) -> npt.NDArray[np.float64]:
    lms = np.asarray(landmarks5, np.float64)
    if lms.shape != (5, 2):
        raise InputError(f"landmarks5 must have shape (5, 2), got {lms.shape}")
    ratio = size_px / 112.0
    return umeyama_similarity(lms, ARCFACE_TEMPLATE_112 * ratio)


def align_face(
    image: npt.NDArray[np.uint8], landmarks5: npt.NDArray[np.floating], size_px: int = 112
) -> npt.NDArray[np.uint8]:
    """Warp the face with these landmarks to a ``size_px`` square ArcFace crop (BGR uint8)."""
    m = arcface_matrix(landmarks5, size_px)
    out = cv2.warpAffine(image, m, (size_px, size_px), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    return np.ascontiguousarray(out, dtype=np.uint8)
