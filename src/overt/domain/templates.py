"""Biometric templates. Their ``repr`` never shows the vector."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from overt.errors import InputError


@dataclass(frozen=True, slots=True, eq=False)
class Template:
    """A float32, L2-normalised embedding produced by model ``model_id``.

    Equality is identity (templates are never compared with ``==``; use
    :func:`cosine_similarity`). ``repr`` is redacted so a template never lands in a log.
    """

    vector: npt.NDArray[np.float32] = field(repr=False)
    model_id: str

    def __post_init__(self) -> None:
        vec = np.array(self.vector, dtype=np.float32, copy=True)
        if vec.ndim != 1 or vec.size == 0:
            raise InputError(f"template vector must be 1-D and non-empty, got shape {vec.shape}")
        if not np.all(np.isfinite(vec)):
            raise InputError("template vector must be finite")
        norm = float(np.linalg.norm(vec))
        if norm == 0.0:
            raise InputError("template vector must not be zero")
        if abs(norm - 1.0) > 1e-3:
            vec = vec / norm
        vec.setflags(write=False)
        object.__setattr__(self, "vector", vec)
        if not self.model_id:
            raise InputError("template model_id must not be empty")

    @property
    def dim(self) -> int:
        return int(self.vector.shape[0])

    def __repr__(self) -> str:
        return f"Template(model_id={self.model_id!r}, dim={self.dim}, vector=<redacted>)"

    __str__ = __repr__


def cosine_similarity(a: Template, b: Template) -> float:
    """Cosine similarity of two templates of the same model, in [-1, 1]."""
    if a.model_id != b.model_id:
        raise InputError(f"cannot compare templates of different models ({a.model_id} vs {b.model_id})")
    if a.dim != b.dim:
        raise InputError("cannot compare templates of different sizes")
    return float(np.clip(np.dot(a.vector, b.vector), -1.0, 1.0))
