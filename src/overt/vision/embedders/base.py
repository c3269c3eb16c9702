"""The embedder protocol shared by every backend (and by the fakes in tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from overt.domain.templates import Template


@runtime_checkable
class Embedder(Protocol):
    """Turns a face into an L2-normalised template.

    Each embedder owns its alignment (``align``), because each network was trained on crops
    made its own way; ``embed`` takes a batch of those crops.
    """

    model_id: str
    embedding_size: int
    crop_size_px: int

    def align(
        self,
        image: npt.NDArray[np.uint8],
        xyxy: npt.NDArray[np.float32],
        landmarks5: npt.NDArray[np.float32],
    ) -> npt.NDArray[np.uint8]: ...

    def embed(self, crops: Sequence[npt.NDArray[np.uint8]]) -> list[Template]: ...


@runtime_checkable
class ReportsFeatureNorms(Protocol):
    """An embedder that also reports each raw feature's L2 norm before normalisation.

    The norm tracks how recognisable the input is as a face (cf. MagFace): cartoons and
    non-human detections score low. Its scale is the model's own.
    """

    def embed_with_norms(
        self, crops: Sequence[npt.NDArray[np.uint8]]
    ) -> tuple[list[Template], npt.NDArray[np.float32]]: ...


def embed_with_norms(
    embedder: Embedder, crops: Sequence[npt.NDArray[np.uint8]]
) -> tuple[list[Template], npt.NDArray[np.float32]]:
    """``embedder.embed(crops)`` plus raw feature norms; NaN where the embedder reports none."""
    if isinstance(embedder, ReportsFeatureNorms):
        templates, norms = embedder.embed_with_norms(crops)
        return templates, np.asarray(norms, np.float32)
    templates = embedder.embed(crops)
    return templates, np.full(len(templates), np.nan, np.float32)
