"""A tiny identities folder made from a sample team photo (faces cropped, then augmented).

Each of the largest faces of ``players.jpg`` (shipped by an installed package) becomes one
identity; its images are the crop and augmented variants (mirror, darker + blur, slight
rotation). Nothing is copied from dev-data; the folder is written to a temp dir per test run.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from overt.samples import sample_image
from overt.vision.detectors.scrfd import ScrfdDetector
from overt.vision.imageio import read_image
from overt.vision.models import ModelRegistry


def _variants(crop: npt.NDArray[np.uint8]) -> list[npt.NDArray[np.uint8]]:
    h, w = crop.shape[:2]
    rot = cv2.warpAffine(crop, cv2.getRotationMatrix2D((w / 2, h / 2), 8, 1.0), (w, h), borderMode=cv2.BORDER_REFLECT)
    dark = cv2.GaussianBlur(np.clip(crop.astype(np.float32) * 0.75, 0, 255).astype(np.uint8), (3, 3), 0)
    return [crop, np.ascontiguousarray(crop[:, ::-1]), dark, rot]


def make_identities(root: Path, *, n_ids: int = 12, per_id: int = 3, side_px: int = 160) -> Path:
    """Write ``root/p00/0.png ...``; returns ``root``. Identity k is the k-th largest face."""
    img = read_image(sample_image("players"))
    dets = ScrfdDetector(ModelRegistry()).detect(img)
    order = np.argsort(-dets.box_sizes_px())[:n_ids]
    h, w = img.shape[:2]
    for k, i in enumerate(sorted(order.tolist(), key=lambda j: float(dets.xyxy[j][0]))):
        x1, y1, x2, y2 = dets.xyxy[i]
        m = 0.8 * max(x2 - x1, y2 - y1)
        region = img[max(0, int(y1 - m)) : min(h, int(y2 + m)), max(0, int(x1 - m)) : min(w, int(x2 + m))]
        crop = np.asarray(cv2.resize(region, (side_px, side_px), interpolation=cv2.INTER_CUBIC), np.uint8)
        d = root / f"p{k:02d}"
        d.mkdir(parents=True, exist_ok=True)
        for j, v in enumerate(_variants(crop)[:per_id]):
            cv2.imwrite(str(d / f"{j}.png"), v)
    return root
