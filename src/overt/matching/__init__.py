"""Watch-list matching: galleries (exact and ANN) and the per-track decider."""

from __future__ import annotations

from overt.matching.decider import Decider
from overt.matching.gallery import (
    ANN_MIN_TEMPLATES,
    ExactGallery,
    FaissHnswGallery,
    Gallery,
    GalleryBackend,
    build_gallery,
)

__all__ = [
    "ANN_MIN_TEMPLATES",
    "Decider",
    "ExactGallery",
    "FaissHnswGallery",
    "Gallery",
    "GalleryBackend",
    "build_gallery",
]
