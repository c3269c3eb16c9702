"""Watch-list enrolment over the API: feedback on rejection, images only to managers, audited."""

from __future__ import annotations

from overt.samples import sample_image
from tests.api.conftest import Running
from tests.api.helpers import enrol_yaoming


def test_rejected_image_says_why_and_stores_nothing(running: Running) -> None:
    wm = running.login("wm")
    before = wm.get("/api/v1/watchlist/entries").json()
    r = wm.post(
        "/api/v1/watchlist/entries",
        files={"image": ("group.jpg", sample_image("gdp").read_bytes(), "image/jpeg")},
        data={
            "subject_ref": "CASE-GROUP",
            "category": "wanted_by_court",
            "reason": "warrant",
            "image_source": "custody photo",
            "legal_basis": "PACE s64A",
            "taken_on": "2025-01-01",
            "review_on": "2030-01-01",
        },
    )
    assert r.status_code == 422
    assert "5 faces" in r.json()["detail"]
    r = wm.post(
        "/api/v1/watchlist/entries",
        files={"image": ("x.jpg", b"not an image", "image/jpeg")},
        data={
            "subject_ref": "CASE-BROKEN",
            "category": "wanted_by_court",
            "reason": "warrant",
            "image_source": "custody photo",
            "legal_basis": "PACE s64A",
            "taken_on": "2025-01-01",
            "review_on": "2030-01-01",
        },
    )
    assert r.status_code == 422
    assert wm.get("/api/v1/watchlist/entries").json() == before
    wm.close()


def test_entry_image_for_managers_only_and_audited(running: Running) -> None:
    entry = enrol_yaoming(running, ref="CASE-IMG-1")
    wm = running.login("wm")
    listed = {e["id"]: e for e in wm.get("/api/v1/watchlist/entries").json()}
    assert listed[entry]["subject_ref"] == "CASE-IMG-1"
    img = wm.get(f"/api/v1/watchlist/entries/{entry}/image.jpg")
    assert img.status_code == 200
    assert img.content == sample_image("yaoming").read_bytes()
    wm.close()
    officer = running.login("officer")
    listed = {e["id"]: e for e in officer.get("/api/v1/watchlist/entries").json()}
    assert listed[entry]["subject_ref"] is None  # provenance yes, the reference no
    assert officer.get(f"/api/v1/watchlist/entries/{entry}/image.jpg").status_code == 403
    officer.close()
    aud = running.login("aud")
    seen = aud.get("/api/v1/audit?action=watchlist.image_viewed").json()
    assert any(e["target"] == f"entry:{entry}" and e["actor"] == "wm" for e in seen)
    aud.close()
    # no uploaded image was left in the data directory in the clear
    data = sample_image("yaoming").read_bytes()[1000:1064]
    for f in running.data_dir.rglob("*"):
        if f.is_file():
            assert data not in f.read_bytes(), f
