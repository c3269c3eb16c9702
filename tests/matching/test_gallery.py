from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from overt.errors import InputError
from overt.matching import ExactGallery, FaissHnswGallery, Gallery, build_gallery

DIM = 64


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> npt.NDArray[np.float32]:
    v = rng.standard_normal((n, dim)).astype(np.float32)
    out: npt.NDArray[np.float32] = (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)
    return out


def noisy(rng: np.random.Generator, v: npt.NDArray[np.float32], sigma: float) -> npt.NDArray[np.float32]:
    out = v + sigma * rng.standard_normal(v.shape).astype(np.float32)
    res: npt.NDArray[np.float32] = (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)
    return res


@pytest.fixture(params=["exact", "faiss_hnsw"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def make(backend: str, subjects: list[str], vecs: npt.NDArray[np.float32]) -> Gallery:
    return build_gallery(subjects, vecs, model_id="m", backend=backend)  # type: ignore[arg-type]


def test_contract_best_template_per_subject(backend: str) -> None:
    e = np.eye(4, dtype=np.float32)
    g = make(backend, ["alice", "alice", "bob", "carol"], e)
    assert len(g) == 4
    assert set(g.subjects) == {"alice", "bob", "carol"}
    probe = np.array([[0.1, 0.9, 0.3, 0.0]], np.float32)
    probe /= np.linalg.norm(probe)
    (res,) = g.search(probe, k=3)
    assert [c.subject for c in res] == ["alice", "bob", "carol"]
    assert [c.rank for c in res] == [1, 2, 3]
    assert res[0].similarity == pytest.approx(float(probe[0, 1]), abs=1e-5)
    assert "alice" not in repr(res[0])  # subject references stay out of logs


def test_contract_k_larger_than_subjects_and_empty_batch(backend: str) -> None:
    g = make(backend, ["a", "b"], np.eye(2, dtype=np.float32))
    assert len(g.search(np.array([[1, 0]], np.float32), k=10)[0]) == 2
    assert g.search(np.zeros((0, 2), np.float32), k=1) == []
    with pytest.raises(InputError):
        g.search(np.ones((1, 3), np.float32), k=1)
    with pytest.raises(InputError):
        g.search(np.ones((1, 2), np.float32), k=0)


def test_rejects_bad_galleries() -> None:
    with pytest.raises(InputError):
        ExactGallery(["a"], np.ones((2, 4), np.float32), model_id="m")
    with pytest.raises(InputError):
        ExactGallery(["a"], np.zeros((1, 4), np.float32), model_id="m")
    with pytest.raises(InputError):
        ExactGallery([""], np.ones((1, 4), np.float32), model_id="m")


def test_auto_picks_ann_by_size() -> None:
    rng = np.random.default_rng(0)
    v = unit(rng, 200)
    subs = [f"s{i}" for i in range(200)]
    assert isinstance(build_gallery(subs, v, model_id="m", ann_min_templates=201), ExactGallery)
    assert isinstance(build_gallery(subs, v, model_id="m", ann_min_templates=200), FaissHnswGallery)


def test_ann_agrees_with_exact_search() -> None:
    """Recall@1 of HNSW against exact search on 20k templates of 5k subjects (4 each)."""
    rng = np.random.default_rng(1)
    centres = unit(rng, 5000, 128)
    vecs = noisy(rng, np.repeat(centres, 4, axis=0), 0.05)
    subs = [f"s{i}" for i in range(5000) for _ in range(4)]
    probes = noisy(rng, centres[rng.choice(5000, 300, replace=False)], 0.08)
    exact = ExactGallery(subs, vecs, model_id="m")
    ann = FaissHnswGallery(subs, vecs, model_id="m")
    e_res = exact.search(probes, k=5)
    a_res = ann.search(probes, k=5)
    agree = np.mean([e[0].subject == a[0].subject for e, a in zip(e_res, a_res, strict=True)])
    assert agree >= 0.99
    for e, a in zip(e_res, a_res, strict=True):
        if e[0].subject == a[0].subject:
            assert a[0].similarity == pytest.approx(e[0].similarity, abs=1e-4)


def _search_in_child(g: Gallery, probes: npt.NDArray[np.float32]) -> list[tuple[str, ...]]:
    return [tuple(c.subject for c in r) for r in g.search(probes, k=3)]


def test_hnsw_gallery_is_handed_to_a_worker_process() -> None:
    """``overt run --workers N`` hands the gallery to each spawned worker over a pipe (pickle):
    the HNSW graph arrives whole (its faiss serialisation) and answers as in the parent."""
    import multiprocessing as mp
    import pickle

    from overt.pipeline.workers import ProcessPipeline

    rng = np.random.default_rng(3)
    vecs = unit(rng, 400)
    subs = [f"s{i % 100}" for i in range(400)]
    g = FaissHnswGallery(subs, vecs, model_id="m", ef_search=77)
    copy = pickle.loads(pickle.dumps(g))
    assert copy._index.hnsw.efSearch == 77
    probes = noisy(rng, vecs[:20], 0.05)
    here = _search_in_child(g, probes)
    assert _search_in_child(copy, probes) == here
    with mp.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_search_in_child, (g, probes)) == here
    ProcessPipeline(["a.mp4", "b.mp4"], g, [], workers=2)  # accepted (it once could be refused)
