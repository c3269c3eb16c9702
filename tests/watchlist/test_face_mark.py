"""Photos with bystanders: ``watchlist enrol --pick dominant`` and the governed add with a marked face."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from overt.cli.app import main
from overt.config import build_engine
from overt.domain.watchlist import Category, EntryDetails
from overt.errors import MultipleFacesError
from overt.store import Store
from overt.watchlist.entries import WatchlistService
from tests.gov_helpers import users
from tests.vision.test_face_pick import _scene
from tests.watchlist.test_entries import _prov


def _write(path: Path, img: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), img)
    return path


def test_enrol_pick_dominant_reports_the_face_taken(
    tmp_path: Path, yaoming_bgr: np.ndarray, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "wl" / "subject-1" / "with_bystander.png", _scene(yaoming_bgr, small_scale=0.5))
    _write(tmp_path / "wl" / "subject-1" / "two_alike.png", _scene(yaoming_bgr, small_scale=0.8))
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["watchlist", "enrol", "wl", "--json"]) != 0  # exactly one face by default: nothing enrolled
    capsys.readouterr()
    assert main(["watchlist", "enrol", "wl", "--pick", "dominant", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (acc,) = out["accepted"]
    assert acc["image"].endswith("with_bystander.png")
    assert acc["faces_found"] == 2
    assert acc["rule"] == "dominant"
    assert isinstance(acc["face_index"], int)
    (rej,) = out["rejected"]
    assert "none dominates" in rej["reason"]


def test_governed_add_needs_one_face_or_a_marked_one(store: Store, tmp_path: Path, yaoming_bgr: np.ndarray) -> None:
    u = users(store)
    engine = build_engine()
    svc = WatchlistService(store, engine)
    img = _scene(yaoming_bgr, small_scale=0.5)
    path = _write(tmp_path / "photo.png", img)
    details = EntryDetails("W-9", "warrant", "custody")
    with pytest.raises(MultipleFacesError):
        svc.add(u["wm"], path, details, _prov(category=Category.WANTED_BY_COURT))  # no "dominant" here
    big = int(np.argmin(engine.detect(img).xyxy[:, 0]))
    res = svc.add(u["wm"], path, details, _prov(category=Category.WANTED_BY_COURT), mark=big)
    with store.transaction() as tx:
        stored = tx.watchlist.template(res.entry_id)
        (event,) = tx.audit.entries(action="watchlist.entry_added")
    assert stored.dim == 512
    expected = engine.one_face(img, mark=big).template
    assert expected is not None
    assert float(np.dot(stored.vector, expected.vector)) > 0.999
    assert event.details["face_marked"] is True


def test_face_option_parses_an_index_or_a_box() -> None:
    from overt.cli.watchlist_governed import parse_face_mark
    from overt.errors import InputError

    assert parse_face_mark(None) is None
    assert parse_face_mark("2") == 2
    assert parse_face_mark("10, 20,110.5,140") == (10.0, 20.0, 110.5, 140.0)
    for bad in ("two", "1,2,3", "a,b,c,d"):
        with pytest.raises(InputError):
            parse_face_mark(bad)
