"""Governed enrolment with a fake engine (fast) and the real engine on a bundled image."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from overt.domain.faces import Face
from overt.domain.quality import FaceQuality, QualityGate
from overt.domain.watchlist import Category, EntryDetails, EntryProvenance
from overt.errors import AuthError, ImageError, InputError, QualityError
from overt.samples import sample_image
from overt.store import Store
from overt.watchlist.entries import DuplicateFaceError, WatchlistService
from tests.gov_helpers import template, users


class FakeEngine:
    min_similarity = 0.3

    def __init__(self, seeds: list[int]) -> None:
        self.seeds = seeds

    def read(self, path: str | Path) -> npt.NDArray[np.uint8]:
        return np.zeros((8, 8, 3), np.uint8)

    def one_face(
        self, image: Any, *, pick: str = "one", gate: QualityGate | None = None, what: str = "", mark: Any = None
    ) -> Face:
        q = FaceQuality(120, 60, 0.9, 100, 0, 0)
        box = np.array([0, 0, 10, 10], np.float32)
        return Face(box, np.zeros((5, 2), np.float32), q, template(self.seeds.pop(0)))


def _prov(**kw: Any) -> EntryProvenance:
    base: dict[str, Any] = {
        "category": Category.MISSING_PERSON,
        "legal_basis": "consent of family",
        "taken_on": date(2025, 1, 1),
        "review_on": date(2026, 6, 1),
    }
    base.update(kw)
    return EntryProvenance(**base)


@pytest.fixture
def img(tmp_path: Path) -> Path:
    p = tmp_path / "face.jpg"
    p.write_bytes(sample_image("yaoming").read_bytes())
    return p


def test_add_duplicate_warning_and_permissions(store: Store, img: Path) -> None:
    u = users(store)
    svc = WatchlistService(store, FakeEngine([1, 1, 1, 2]))
    r1 = svc.add(u["wm"], img, EntryDetails("MP-1", "missing since May", "family photo"), _prov())
    assert r1.warnings == ()
    with pytest.raises(DuplicateFaceError, match=r"entry #1 \(MP-1\).*Nothing was saved"):
        svc.add(u["wm"], img, EntryDetails("MP-2", "missing", "family photo"), _prov())
    assert [e.id for e in svc.find(u["wm"])] == [r1.entry_id]  # nothing saved
    r2 = svc.add(u["wm"], img, EntryDetails("MP-2", "missing", "family photo"), _prov(), confirm_duplicate_of=1)
    assert "possible duplicate" in r2.warnings[0]
    with pytest.raises(AuthError):
        svc.add(u["op"], img, EntryDetails("MP-3", "x", "y"), _prov())
    with pytest.raises(InputError, match="duplicate subject reference"):
        svc.add(u["wm"], img, EntryDetails("mp-1", "x", "y"), _prov())
    svc.remove(u["wm"], r1.entry_id, "found safe")
    assert [e.id for e in svc.find(u["wm"])] == [r2.entry_id]


def test_a_face_like_two_entries_is_enrolled_with_one_confirmation(store: Store, img: Path) -> None:
    """Both look-alikes are named in the refusal; confirming either covers both (it used to be refused forever)."""
    u = users(store)
    svc = WatchlistService(store, FakeEngine([1, 1, 1, 1]))
    svc.add(u["wm"], img, EntryDetails("MP-1", "missing since May", "family photo"), _prov())
    svc.add(u["wm"], img, EntryDetails("MP-2", "missing", "family photo"), _prov(), confirm_duplicate_of=1)
    with pytest.raises(DuplicateFaceError, match=r"#1 \(MP-1\).*#2 \(MP-2\)|#2 \(MP-2\).*#1 \(MP-1\)"):
        svc.add(u["wm"], img, EntryDetails("MP-3", "missing", "family photo"), _prov())
    r3 = svc.add(u["wm"], img, EntryDetails("MP-3", "missing", "family photo"), _prov(), confirm_duplicate_of=2)
    assert len(r3.warnings) == 2
    assert len(svc.find(u["wm"])) == 3


def test_input_errors_store_nothing(store: Store, img: Path, tmp_path: Path) -> None:
    u = users(store)
    svc = WatchlistService(store, FakeEngine([1, 2, 3]))
    svc.add(u["wm"], img, EntryDetails("A", "r", "s"), _prov())
    with pytest.raises(InputError, match="under-18"):
        svc.add(u["wm"], img, EntryDetails("B", "r", "s"), _prov(under_18=True))
    with pytest.raises(InputError, match="future"):
        svc.add(u["wm"], img, EntryDetails("B", "r", "s"), _prov(taken_on=date(2030, 1, 1), review_on=date(2031, 1, 1)))
    with pytest.raises(InputError, match="review date"):
        _prov(review_on=date(2024, 1, 1))
    with pytest.raises(ImageError, match="no such file"):
        svc.add(u["wm"], tmp_path / "missing.jpg", EntryDetails("B", "r", "s"), _prov())
    with store.transaction() as tx:
        assert len(tx.watchlist.find()) == 1
        assert tx.audit.verify().ok
    ok = svc.add(u["wm"], img, EntryDetails("B", "r", "s", "runaway, at risk"), _prov(under_18=True))
    assert ok.entry_id == 2


def test_real_engine_quality_gate(store: Store, img: Path, tmp_path: Path) -> None:
    from overt.config import build_engine

    u = users(store)
    svc = WatchlistService(store, build_engine())
    res = svc.add(u["wm"], img, EntryDetails("W-1", "warrant", "custody"), _prov(category=Category.WANTED_BY_COURT))
    assert res.quality.size_px > 64
    with store.transaction() as tx:
        t = tx.watchlist.template(res.entry_id)
        assert t.dim == 512
        assert tx.watchlist.image(res.entry_id) == img.read_bytes()
    import cv2

    small = tmp_path / "small.jpg"
    im = cv2.imread(str(img))
    assert im is not None
    cv2.imwrite(str(small), cv2.resize(im, (im.shape[1] // 5, im.shape[0] // 5)))
    with pytest.raises(QualityError, match="too small"):
        svc.add(u["wm"], small, EntryDetails("W-2", "warrant", "custody"), _prov())
