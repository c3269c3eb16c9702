"""``enrol_folder(DIR)``: one folder per subject (folder name = subject reference) with images.

Every image must show exactly one face of enrolment quality (``QualityGate.for_enrolment()``);
an image that does not is rejected with the reason and the others still count. The result is
an in-memory ``Watchlist`` (subject references and templates) from which a gallery is built;
nothing is written. The governed, encrypted watch list will produce the same ``Watchlist``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import numpy.typing as npt

from overt.domain.quality import FaceQuality, QualityGate
from overt.errors import ImageError, InputError, MultipleFacesError, NoFaceError, QualityError
from overt.matching.gallery import ANN_MIN_TEMPLATES, Gallery, GalleryBackend, build_gallery

if TYPE_CHECKING:
    from overt.vision.engine import FaceEngine

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".pgm", ".ppm", ".tif", ".tiff"})


@dataclass(frozen=True, slots=True, eq=False)
class Watchlist:
    """Subject references and their templates (row ``i`` of ``vectors`` belongs to ``subjects[i]``)."""

    model_id: str
    subjects: tuple[str, ...]
    vectors: npt.NDArray[np.float32] = field(repr=False)

    def __post_init__(self) -> None:
        vecs = np.array(self.vectors, dtype=np.float32, copy=True)
        if vecs.ndim != 2 or vecs.shape[0] != len(self.subjects):
            raise InputError("watch list vectors must be (N, d) with one subject per row")
        vecs.setflags(write=False)
        object.__setattr__(self, "vectors", vecs)

    def __len__(self) -> int:
        return len(self.subjects)

    @property
    def subject_count(self) -> int:
        return len(set(self.subjects))

    def gallery(self, *, backend: GalleryBackend = "auto", ann_min_templates: int = ANN_MIN_TEMPLATES) -> Gallery:
        if not self.subjects:
            raise InputError("the watch list is empty: enrol at least one face")
        return build_gallery(
            self.subjects, self.vectors, model_id=self.model_id, backend=backend, ann_min_templates=ann_min_templates
        )

    def __repr__(self) -> str:
        return f"Watchlist(model_id={self.model_id!r}, templates={len(self)}, subjects={self.subject_count})"


@dataclass(frozen=True, slots=True)
class EnrolledImage:
    """An accepted image and which of its faces was taken (index as ``overt faces`` lists it)."""

    subject: str
    path: str
    quality: FaceQuality
    face_index: int = 0
    faces_found: int = 1
    rule: str = "only face"


@dataclass(frozen=True, slots=True)
class RejectedImage:
    subject: str
    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class EnrolmentReport:
    watchlist: Watchlist
    accepted: tuple[EnrolledImage, ...]
    rejected: tuple[RejectedImage, ...]


def _subject_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        raise InputError(f"watch-list folder {root} does not exist or is not a folder")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise InputError(f"watch-list folder {root} holds no subject folders (one folder per subject)")
    return folders


def enrol_folder(
    root: str | Path,
    engine: FaceEngine,
    *,
    gate: QualityGate | None = None,
    pick: Literal["one", "dominant"] = "one",
) -> EnrolmentReport:
    """Enrol every image of every subject folder of ``root``; report accepted and rejected images.

    ``pick="one"``: an image must show exactly one face. ``"dominant"``: an image with bystanders is
    accepted when its largest face dominates (see :func:`overt.vision.engine.dominant_face`).
    """
    gate = gate or QualityGate.for_enrolment()
    subjects: list[str] = []
    vectors: list[npt.NDArray[np.float32]] = []
    accepted: list[EnrolledImage] = []
    rejected: list[RejectedImage] = []
    for folder in _subject_folders(Path(root)):
        subject = folder.name
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            rejected.append(RejectedImage(subject, str(folder), "no images in this subject folder"))
            continue
        for path in files:
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                rejected.append(RejectedImage(subject, str(path), f"not an image file ({path.suffix or 'no suffix'})"))
                continue
            try:
                image = engine.read(path)
                chosen = engine.choose(image, pick=pick, gate=gate, what=path.name)
            except (NoFaceError, MultipleFacesError, QualityError, ImageError) as exc:
                reason = str(exc)
                prefix = f"{path.name}: "
                rejected.append(RejectedImage(subject, str(path), reason.removeprefix(prefix)))
                continue
            face = chosen.face
            if face.template is None:  # pragma: no cover - one_face always embeds
                rejected.append(RejectedImage(subject, str(path), "no template"))
                continue
            subjects.append(subject)
            vectors.append(face.template.vector)
            accepted.append(
                EnrolledImage(subject, str(path), face.quality, chosen.index, chosen.faces_found, chosen.rule)
            )
    model_id = engine.embedder.model_id
    dim = engine.embedder.embedding_size
    matrix = np.stack(vectors) if vectors else np.zeros((0, dim), np.float32)
    return EnrolmentReport(Watchlist(model_id, tuple(subjects), matrix), tuple(accepted), tuple(rejected))


def watchlist_from_templates(model_id: str, subjects: Sequence[str], vectors: npt.NDArray[np.float32]) -> Watchlist:
    """A watch list from templates held elsewhere (e.g. a decrypted snapshot)."""
    return Watchlist(model_id, tuple(subjects), vectors)
