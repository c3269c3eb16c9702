from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest

from overt.config import build_engine
from overt.errors import InputError
from overt.matching import ExactGallery
from overt.vision.engine import FaceEngine
from overt.watchlist import enrol_folder
from tests.pipeline.conftest import altered


@pytest.fixture(scope="module")
def engine() -> FaceEngine:
    return build_engine()


def test_enrol_folder_accepts_good_faces_and_explains_rejections(
    engine: FaceEngine, tmp_path: Path, yaoming_bgr: npt.NDArray[np.uint8], players_bgr: npt.NDArray[np.uint8]
) -> None:
    (tmp_path / "subject-a").mkdir()
    (tmp_path / "subject-b").mkdir()
    (tmp_path / "empty-subject").mkdir()
    (tmp_path / ".hidden").mkdir()
    cv2.imwrite(str(tmp_path / "subject-a" / "1.jpg"), yaoming_bgr)
    cv2.imwrite(str(tmp_path / "subject-a" / "2.jpg"), altered(yaoming_bgr))
    cv2.imwrite(str(tmp_path / "subject-b" / "team.jpg"), players_bgr)
    blurred = cv2.GaussianBlur(yaoming_bgr, (0, 0), 6)
    cv2.imwrite(str(tmp_path / "subject-b" / "blurred.png"), blurred)
    (tmp_path / "subject-b" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    report = enrol_folder(tmp_path, engine)
    wl = report.watchlist
    assert wl.subjects == ("subject-a", "subject-a")
    assert wl.vectors.shape == (2, engine.embedder.embedding_size)
    assert not wl.vectors.flags.writeable
    reasons = {(r.subject, Path(r.path).name): r.reason for r in report.rejected}
    assert "expected exactly one" in reasons[("subject-b", "team.jpg")]
    assert ("subject-b", "broken.jpg") in reasons
    assert ("empty-subject", "empty-subject") in reasons
    assert any(s == "subject-b" and n == "blurred.png" for s, n in reasons)
    assert "subject-a" not in repr(wl)
    gallery = wl.gallery()
    assert isinstance(gallery, ExactGallery)
    assert gallery.subjects == ("subject-a",)


def test_enrol_folder_rejects_a_missing_or_flat_folder(engine: FaceEngine, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        enrol_folder(tmp_path / "missing", engine)
    (tmp_path / "loose.jpg").write_bytes(b"")
    with pytest.raises(InputError, match="no subject folders"):
        enrol_folder(tmp_path, engine)
