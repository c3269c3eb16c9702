"""dlib ResNet embedder (optional extra ``overt[dlib]``): the shared contract plus specifics."""

from __future__ import annotations

import pytest

from overt.vision.detectors.dlib_hog import DlibHogDetector
from overt.vision.embedders.dlib_resnet import DlibResnetEmbedder
from overt.vision.models import ModelRegistry
from tests.vision.contract import EmbedderContract

pytestmark = pytest.mark.dlib


@pytest.fixture(scope="module")
def embedder() -> DlibResnetEmbedder:
    pytest.importorskip("dlib", reason="the dlib backend needs: pip install 'overt[dlib]'")
    return DlibResnetEmbedder()


@pytest.fixture(scope="module")
def embed_detector() -> DlibHogDetector:
    pytest.importorskip("dlib", reason="the dlib backend needs: pip install 'overt[dlib]'")
    return DlibHogDetector()


@pytest.fixture(scope="module")
def threshold() -> float:
    t = ModelRegistry().get("dlib_resnet_v1").default_threshold
    assert t is not None
    return t


class TestDlibResnetContract(EmbedderContract):
    pass
