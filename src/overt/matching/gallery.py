"""Galleries: search probes against the watch list's templates, one result per subject.

``ExactGallery`` computes every cosine similarity with one matrix product (templates are
L2-normalised, so cosine = dot product) and keeps, per subject, its best template.
``FaissHnswGallery`` answers the same question with an HNSW graph (faiss-cpu) for large
watch lists; ``build_gallery`` picks it from ``ANN_MIN_TEMPLATES`` templates on. Both hold
only what they are given: they know nothing about storage, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from overt.domain.alerts import Candidate
from overt.errors import ConfigError, InputError

GalleryBackend = Literal["auto", "exact", "faiss_hnsw"]

ANN_MIN_TEMPLATES = 50_000
"""From this many templates on, ``auto`` uses the ANN index.

Measured at 100k 512-d templates (BENCHMARKS.md, gallery section): exact search costs ~19 ms per
single probe (it reads every template), HNSW at efSearch 256 answers in 2.5 ms with the same
rank-1 answers as exact search (1000/1000). At 50k exact search is ~10 ms a round.
"""


@runtime_checkable
class Gallery(Protocol):
    """Searchable templates of watch-list subjects (subject references, never images)."""

    model_id: str
    dim: int

    def __len__(self) -> int: ...

    @property
    def subjects(self) -> tuple[str, ...]: ...

    def search(self, probes: npt.NDArray[np.float32], k: int = 1) -> list[tuple[Candidate, ...]]:
        """For each probe row (L2-normalised), up to ``k`` subjects by decreasing similarity."""
        ...


def _check_inputs(
    subjects: Sequence[str], vectors: npt.NDArray[np.floating], model_id: str
) -> tuple[tuple[str, ...], npt.NDArray[np.float32]]:
    vecs = np.ascontiguousarray(vectors, dtype=np.float32)
    if vecs.ndim != 2 or vecs.shape[1] == 0:
        raise InputError(f"gallery vectors must be (N, d), got {vecs.shape}")
    if len(subjects) != vecs.shape[0]:
        raise InputError(f"{len(subjects)} subject references for {vecs.shape[0]} templates")
    if any(not s for s in subjects):
        raise InputError("subject references must not be empty")
    if not model_id:
        raise InputError("gallery model_id must not be empty")
    if not np.all(np.isfinite(vecs)):
        raise InputError("gallery vectors must be finite")
    norms = np.linalg.norm(vecs, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise InputError("gallery vectors must not be zero")
    vecs = (vecs / norms).astype(np.float32)
    vecs.setflags(write=False)
    return tuple(subjects), vecs


def _check_probes(probes: npt.NDArray[np.floating], dim: int, k: int) -> npt.NDArray[np.float32]:
    if k < 1:
        raise InputError("k must be >= 1")
    p = np.ascontiguousarray(probes, dtype=np.float32)
    if p.ndim == 1:
        p = p[None, :]
    if p.ndim != 2 or p.shape[1] != dim:
        raise InputError(f"probes must be (N, {dim}), got {p.shape}")
    return p


class ExactGallery:
    """Exact cosine top-k, vectorised numpy. Best up to a few tens of thousands of templates."""

    def __init__(self, subjects: Sequence[str], vectors: npt.NDArray[np.floating], *, model_id: str) -> None:
        subs, vecs = _check_inputs(subjects, vectors, model_id)
        self.model_id = model_id
        self.dim = int(vecs.shape[1])
        # Sort templates by subject so a subject's templates are one contiguous column block.
        names, codes = np.unique(np.array(subs, dtype=object), return_inverse=True)
        order = np.argsort(codes, kind="stable")
        self._vectors = np.ascontiguousarray(vecs[order])
        codes_sorted = codes[order]
        self._starts = np.flatnonzero(np.r_[True, codes_sorted[1:] != codes_sorted[:-1]]).astype(np.intp)
        self._names: tuple[str, ...] = tuple(str(n) for n in names)
        self._n = int(vecs.shape[0])

    def __len__(self) -> int:
        return self._n

    @property
    def subjects(self) -> tuple[str, ...]:
        return self._names

    def __repr__(self) -> str:
        return f"ExactGallery(templates={self._n}, subjects={len(self._names)}, model_id={self.model_id!r})"

    def subject_similarities(self, probes: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
        """(N, S) best similarity of each probe to each subject (in ``subjects`` order)."""
        p = _check_probes(probes, self.dim, 1)
        sims = p @ self._vectors.T
        out: npt.NDArray[np.float32] = np.maximum.reduceat(sims, self._starts, axis=1).astype(np.float32)
        return out

    def search(self, probes: npt.NDArray[np.float32], k: int = 1) -> list[tuple[Candidate, ...]]:
        p = _check_probes(probes, self.dim, k)
        if p.shape[0] == 0:
            return []
        per_subject = self.subject_similarities(p)
        kk = min(k, per_subject.shape[1])
        if kk < per_subject.shape[1]:
            top = np.argpartition(-per_subject, kk - 1, axis=1)[:, :kk]
        else:
            top = np.tile(np.arange(per_subject.shape[1]), (p.shape[0], 1))
        results: list[tuple[Candidate, ...]] = []
        for row, cols in enumerate(top):
            vals = per_subject[row, cols]
            ordered = cols[np.argsort(-vals, kind="stable")]
            results.append(
                tuple(
                    Candidate(self._names[int(c)], float(np.clip(per_subject[row, c], -1, 1)), rank)
                    for rank, c in enumerate(ordered, start=1)
                )
            )
        return results


class FaissHnswGallery:
    """Approximate search over an HNSW graph (faiss-cpu, inner product), same answers as exact in most cases.

    Each query asks the index for ``k * oversample`` templates and keeps the best per subject,
    so subjects with many templates do not crowd others out of the top k.
    """

    def __init__(
        self,
        subjects: Sequence[str],
        vectors: npt.NDArray[np.floating],
        *,
        model_id: str,
        m: int = 32,
        ef_construction: int = 80,
        ef_search: int = 256,
        oversample: int = 4,
    ) -> None:
        try:
            import faiss
        except ImportError as exc:  # pragma: no cover - faiss-cpu is a dependency
            raise ConfigError("the ANN gallery needs faiss-cpu") from exc
        subs, vecs = _check_inputs(subjects, vectors, model_id)
        self.model_id = model_id
        self.dim = int(vecs.shape[1])
        self._subjects_per_template = np.array(subs, dtype=object)
        self._names = tuple(sorted(set(subs)))
        self._n = int(vecs.shape[0])
        self._oversample = max(1, oversample)
        index = faiss.IndexHNSWFlat(self.dim, m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        index.hnsw.efSearch = ef_search
        index.add(vecs)
        self._index = index

    def __len__(self) -> int:
        return self._n

    @property
    def subjects(self) -> tuple[str, ...]:
        return self._names

    def __getstate__(self) -> dict[str, object]:
        """Pickled for worker processes (``overt run --workers N``, over a pipe, memory only): the
        graph travels as faiss's own serialisation, so the hand-over does not depend on whether
        this faiss version can pickle an index itself, and the child need not rebuild it."""
        import faiss

        state = dict(self.__dict__)
        state["_index"] = faiss.serialize_index(self._index)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        import faiss

        state = dict(state)
        index = faiss.deserialize_index(np.asarray(state.pop("_index"), dtype=np.uint8))
        self.__dict__.update(state)
        self.__dict__["_index"] = index

    def __repr__(self) -> str:
        return f"FaissHnswGallery(templates={self._n}, subjects={len(self._names)}, model_id={self.model_id!r})"

    def search(self, probes: npt.NDArray[np.float32], k: int = 1) -> list[tuple[Candidate, ...]]:
        p = _check_probes(probes, self.dim, k)
        if p.shape[0] == 0:
            return []
        want = min(self._n, k * self._oversample)
        sims, idx = self._index.search(p, want)
        results: list[tuple[Candidate, ...]] = []
        for row in range(p.shape[0]):
            best: dict[str, float] = {}
            for sim, i in zip(sims[row], idx[row], strict=True):
                if i < 0:
                    continue
                name = str(self._subjects_per_template[int(i)])
                if name not in best:
                    best[name] = float(sim)
            ordered = sorted(best.items(), key=lambda kv: -kv[1])[:k]
            results.append(
                tuple(Candidate(n, float(np.clip(s, -1, 1)), r) for r, (n, s) in enumerate(ordered, start=1))
            )
        return results


def build_gallery(
    subjects: Sequence[str],
    vectors: npt.NDArray[np.floating],
    *,
    model_id: str,
    backend: GalleryBackend = "auto",
    ann_min_templates: int = ANN_MIN_TEMPLATES,
) -> Gallery:
    """The gallery for these templates: exact below ``ann_min_templates``, else HNSW (``auto``)."""
    if backend == "exact" or (backend == "auto" and len(subjects) < ann_min_templates):
        return ExactGallery(subjects, vectors, model_id=model_id)
    if backend in ("faiss_hnsw", "auto"):
        return FaissHnswGallery(subjects, vectors, model_id=model_id)
    raise ConfigError(f"unknown gallery backend {backend!r}")
