"""Detectors on dev data: no faces in non-face photos, recall on hand-labelled group photos.

Pinned on this machine: SCRFD finds all 25 labelled faces of testing.xml (and all 18 of
training.xml) at IoU >= 0.4 with no extra detections, and one false face in the 22 non-face
images (a dog in dlib_dogs.jpg, score 0.61). dlib HOG: 25/25 and 18/18 (but training.xml is
dlib's own training set), no false face. YuNet (licence-clean engine): 25/25 and 18/18, up to 2
detections matching no label per xml, and two false faces (the dog, and skimage_motorcycle_left.png).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from overt.vision.detectors.base import Detector
from overt.vision.imageio import read_image
from tests.vision.contract import iou

pytestmark = pytest.mark.devdata


@pytest.fixture(scope="module", params=["scrfd", "yunet", pytest.param("dlib", marks=pytest.mark.dlib)])
def detector(request: pytest.FixtureRequest) -> Detector:
    if request.param == "yunet":
        from overt.vision.detectors.yunet import YuNetDetector

        return YuNetDetector()
    if request.param == "dlib":
        pytest.importorskip("dlib", reason="the dlib backend needs: pip install 'overt[dlib]'")
        from overt.vision.detectors.dlib_hog import DlibHogDetector

        return DlibHogDetector()
    from overt.vision.detectors.scrfd import ScrfdDetector

    return ScrfdDetector()


MAX_FALSE_FACES = {"scrfd_500m_bnkps": 1, "yunet_2023mar": 2, "dlib_hog": 0}
MAX_UNLABELLED = {"yunet_2023mar": 2}
"""Detections matching no labelled face allowed per xml (default 1)."""


def test_no_faces_in_non_face_images(detector: Detector, dev_data: Path) -> None:
    files = sorted(p for p in (dev_data / "detection" / "non_faces").iterdir() if p.suffix in (".jpg", ".png"))
    assert len(files) >= 20
    with_faces = [p.name for p in files if len(detector.detect(read_image(p)))]
    assert len(with_faces) <= MAX_FALSE_FACES[detector.model_id], with_faces


def _labelled(xml_file: Path) -> list[tuple[Path, list[tuple[int, int, int, int]]]]:
    out = []
    for im in ET.parse(xml_file).getroot().iter("image"):
        boxes = []
        for b in im.iter("box"):
            x, y, w, h = (int(b.get(k, "0")) for k in ("left", "top", "width", "height"))
            boxes.append((x, y, x + w, y + h))
        out.append((xml_file.parent / str(im.get("file")), boxes))
    return out


@pytest.mark.parametrize(("xml_name", "labelled"), [("testing.xml", 25), ("training.xml", 18)])
def test_recall_on_annotated_group_photos(detector: Detector, dev_data: Path, xml_name: str, labelled: int) -> None:
    found = total = extra = 0
    for path, boxes in _labelled(dev_data / "detection" / "annotated_group_photos" / xml_name):
        dets = detector.detect(read_image(path))
        used: set[int] = set()
        for gt in boxes:
            ious = [iou(gt, dets.xyxy[i]) if i not in used else 0.0 for i in range(len(dets))]
            if ious and max(ious) >= 0.4:
                used.add(int(np.argmax(ious)))
                found += 1
        total += len(boxes)
        extra += len(dets) - len(used)
    assert total == labelled
    assert found / total >= 0.95, f"recall {found}/{total}"  # pinned 1.0; allows one miss
    assert extra <= MAX_UNLABELLED.get(detector.model_id, 1), f"{extra} detections match no labelled face"
