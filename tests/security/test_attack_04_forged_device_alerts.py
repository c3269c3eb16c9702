"""Attack 4 (issue 10), against a real server with a real device token: the server accepted an
entry outside the deployment's snapshot, nonexistent and negative entry ids, similarity -1
(below the authorised threshold), ``alerted_at`` in 2099 (never purged) and in 2001 (purged at
once) and a fake live frame; an operator could then view the photo of an entry that was never
in that deployment; device alerts were audited as ``system``.

Now each is refused (422) with its reason, nothing of it is stored (no alert, no live frame),
each reject is audited as ``alert.rejected`` with the device and its token id, and an accepted
device alert is audited as the device.
"""

from __future__ import annotations

import base64
import io
from contextlib import closing
from typing import Any

import pytest
from PIL import Image

from overt.alerts.ingest_checks import REJECTS
from overt.domain.watchlist import Category
from tests.api.conftest import Running
from tests.api.helpers import active_deployment, alert_body, device_client, jpeg
from tests.gov_helpers import add_entry


@pytest.fixture(scope="module")
def setup(running: Running) -> dict[str, int]:
    in_snapshot = add_entry(running.store, "CASE-IN", 1)
    removed_later = add_entry(running.store, "CASE-REMOVED", 2)
    other_category = add_entry(running.store, "CASE-MISSING", 3, Category.MISSING_PERSON)
    dep = active_deployment(running)  # categories: wanted_by_court; threshold 0.45
    after = add_entry(running.store, "CASE-AFTER", 4)  # enrolled after the snapshot was frozen
    with running.store.transaction() as tx:
        tx.watchlist.remove(removed_later, by="wm", now=tx.clock.now(), reason="no longer wanted")
    return {
        "dep": dep,
        "in": in_snapshot,
        "removed": removed_later,
        "other_category": other_category,
        "after": after,
    }


def _post(running: Running, dep: int, body: dict[str, Any]) -> tuple[int, str]:
    with closing(device_client(running, dep)) as dev:
        r = dev.post("/api/v1/ingest/alerts", json=body)
    return r.status_code, r.text


def _big_jpeg(side: int) -> str:
    buf = io.BytesIO()
    Image.new("RGB", (side, side), (1, 2, 3)).save(buf, "JPEG", quality=5)
    return base64.b64encode(buf.getvalue()).decode()


FORGERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("entry outside the snapshot (other category)", "not_in_snapshot", {"subject": "other_category"}),
    ("entry enrolled after authorisation", "not_in_snapshot", {"subject": "after"}),
    ("entry removed since", "entry_removed", {"subject": "removed"}),
    ("nonexistent entry id", "not_in_snapshot", {"subject": "987654"}),
    ("negative entry id", "bad_entry", {"subject": "-1"}),
    ("similarity -1", "similarity_out_of_range", {"similarity": -1.0}),
    ("similarity below the authorised threshold", "similarity_out_of_range", {"similarity": 0.44}),
    ("alerted_at in 2099", "time_in_future", {"alerted_at": "2099-01-01T00:00:00+00:00"}),
    ("alerted_at in 2001", "time_outside_window", {"alerted_at": "2001-01-01T00:00:00+00:00"}),
    ("fake live frame (not a JPEG)", "not_jpeg", {"context_jpeg_b64": base64.b64encode(b"GIF89a....").decode()}),
    ("oversized live frame", "image_too_large", {"context_jpeg_b64": "big:4000"}),
    ("crop that is not a JPEG", "not_jpeg", {"probe_crop_jpeg_b64": base64.b64encode(b"\xff\xd8\xff junk").decode()}),
    ("oversized crop", "image_too_large", {"probe_crop_jpeg_b64": "big:2000"}),
]


@pytest.mark.parametrize(("what", "code", "change"), FORGERIES, ids=[f[0] for f in FORGERIES])
def test_forged_device_alert_is_refused_and_audited(
    running: Running, setup: dict[str, int], what: str, code: str, change: dict[str, Any]
) -> None:
    dep = setup["dep"]
    body = alert_body(setup["in"])
    for k, v in change.items():
        if k == "subject" and v in setup:
            v = str(setup[v])
        if isinstance(v, str) and v.startswith("big:"):
            v = _big_jpeg(int(v[4:]))
        body[k] = v
    before = REJECTS.snapshot().get(code, 0)
    with running.store.transaction() as tx:
        n_alerts = len(tx.alerts.find(dep))
    status, text = _post(running, dep, body)
    assert status == 422, (what, text)
    assert REJECTS.snapshot()[code] == before + 1
    with running.store.transaction() as tx:
        assert len(tx.alerts.find(dep)) == n_alerts  # nothing stored
        last = tx.audit.entries(action="alert.rejected")[-1]
    assert last.actor == f"device:edge-{dep}"
    assert last.details["reason"] == code
    assert isinstance(last.details["token"], int)
    with closing(running.login("op")) as op:
        assert op.get(f"/api/v1/deployments/{dep}/live").json()["has_frame"] is False


def test_a_genuine_device_alert_is_stored_and_audited_as_the_device(running: Running, setup: dict[str, int]) -> None:
    dep = setup["dep"]
    body = alert_body(setup["in"])
    body["probe_crop_jpeg_b64"] = base64.b64encode(jpeg(size=112)).decode()
    status, text = _post(running, dep, body)
    assert status == 201, text
    with running.store.transaction() as tx:
        raised = tx.audit.entries(action="alert.raised")[-1]
    assert raised.actor == f"device:edge-{dep}"
    assert raised.details["entry"] == setup["in"]
