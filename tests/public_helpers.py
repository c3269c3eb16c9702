"""A server with public deployments in every state, built with distinctive secrets (for leak tests)."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from overt.deployments import DeploymentService
from overt.domain.users import Role
from overt.domain.watchlist import Category, EntryDetails, EntryProvenance
from overt.transparency.public import set_public_info
from overt.users.service import UserService
from tests.api.conftest import Running, start_server
from tests.api.helpers import alert_body, device_client, plan
from tests.gov_helpers import template

GEOFENCE = [[51.50101, -0.14199], [51.50180, -0.14020], [51.50060, -0.13950], [51.49990, -0.14110]]
LATE_REASON = "Urgent: a missing child is believed to be at risk in this area"
# distinctive strings that must never reach a public page or file
SECRET_REFS = ("ZQX-SUBJECT-REF-41729", "ZQX-SUBJECT-REF-88310")
SECRET_REASON_WORDS = "zqx-warrant-reason-quokka"
SECRET_USERS = {"zqx_officer_marlow": Role.AUTHORISING_OFFICER, "zqx_operator_finch": Role.OPERATOR}
PASSWORD = "zqx-password-123"


def noisy_jpeg(seed: int, size: int = 96) -> bytes:
    img = np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    return buf.getvalue()


@dataclass
class PublicWorld:
    running: Running
    ended: int
    active: int
    upcoming: int
    cancelled: int
    draft: int
    secrets: list[str] = field(default_factory=list)
    images: list[bytes] = field(default_factory=list)

    def login(self, name: str) -> Any:
        return self.running.login(name, PASSWORD)


def build_world(root: Path) -> PublicWorld:
    running = start_server(root / "data")
    store = running.store
    users = UserService(store)
    admin = users.authenticate("admin", "admin-password")
    for name, role in SECRET_USERS.items():
        users.add(admin, name, role, PASSWORD)
    set_public_info(
        store,
        running.data_dir,
        admin,
        force_name="Example Constabulary",
        contact_email="lfr-questions@example.org",
        contact_phone="0100 000 111",
        complaints_url="https://example.org/complaints",
        equality_assessment_url="https://example.org/lfr-equality-impact-assessment.pdf",
        dpia_url="https://example.org/lfr-dpia.pdf",
    )
    images = [noisy_jpeg(1), noisy_jpeg(2)]
    entries = []
    for i, (ref, image) in enumerate(zip(SECRET_REFS, images, strict=True)):
        with store.transaction() as tx:
            entries.append(
                tx.watchlist.add(
                    EntryDetails(ref, f"{SECRET_REASON_WORDS} {i}", "custody photo zqx"),
                    EntryProvenance(
                        Category.WANTED_BY_COURT if i == 0 else Category.MISSING_PERSON,
                        "PACE s64A",
                        datetime.now(UTC).date() - timedelta(days=30),
                        datetime.now(UTC).date() + timedelta(days=300),
                    ),
                    image=image,
                    template=template(100 + i),
                    added_by="zqx_watchlist_adder",
                    now=store.clock.now(),
                )
            )
    op = running.login("zqx_operator_finch", PASSWORD)
    officer = running.login("zqx_officer_marlow", PASSWORD)

    def create(place: str, start_offset_min: float = -5, hours: float = 6, geofence: bool = False) -> int:
        p = plan(hours=hours, start_offset_min=start_offset_min)
        p["place"] = place
        p["criteria"] = "zqx internal criteria text"
        p["threshold_justification"] = "zqx internal threshold justification"
        p["categories"] = ["wanted_by_court", "missing_person"]
        if geofence:
            p["geofence"] = GEOFENCE
        r = op.post("/api/v1/deployments", json=p)
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

    def authorise_publish(dep: int) -> None:
        assert officer.post(f"/api/v1/deployments/{dep}/authorise").status_code == 200
        assert op.post(f"/api/v1/deployments/{dep}/publish-notice").status_code == 200

    def start_late(dep: int) -> None:
        r = officer.post(f"/api/v1/deployments/{dep}/late-start", json={"reason": LATE_REASON})
        assert r.status_code == 200, r.text
        assert op.post(f"/api/v1/deployments/{dep}/start").status_code == 200, "start"

    ended = create("Station forecourt, Kings Road", geofence=True)
    authorise_publish(ended)
    start_late(ended)
    dev = device_client(running, ended)
    crops = [noisy_jpeg(10 + i) for i in range(3)]
    alert_ids = []
    for i, crop in enumerate(crops):
        body = alert_body(entries[0], similarity=0.7 + i / 100)
        body["probe_crop_jpeg_b64"] = base64.b64encode(crop).decode()
        body["context_jpeg_b64"] = base64.b64encode(noisy_jpeg(20 + i, 160)).decode()
        body["camera"] = "zqx-camera-secret"
        r = dev.post("/api/v1/ingest/alerts", json=body)
        assert r.status_code == 201, r.text
        alert_ids.append(int(r.json()["alert_id"]))
        images += [crop, noisy_jpeg(20 + i, 160)]
    dev.close()
    verdicts = [{"verdict": "true_match", "outcome": "arrested"}, {"verdict": "false_match"}]
    for a, v in zip(alert_ids, verdicts, strict=False):
        assert op.post(f"/api/v1/alerts/{a}/adjudication", json=v).status_code == 200
    DeploymentService(store).record_faces_processed(ended, 4321)
    assert op.post(f"/api/v1/deployments/{ended}/stop", json={"reason": "zqx stop"}).status_code == 200
    assert op.post(f"/api/v1/deployments/{ended}/close").status_code == 200

    active = create("Market Square, north entrance")
    authorise_publish(active)
    start_late(active)
    upcoming = create("Riverside Walk by the bandstand", start_offset_min=60 * 30)
    authorise_publish(upcoming)
    cancelled = create("Cathedral Close", start_offset_min=60 * 48)
    authorise_publish(cancelled)
    assert op.post(f"/api/v1/deployments/{cancelled}/close").status_code == 200
    draft = create("Secret draft place zqx")  # never authorised, never public
    op.close()
    officer.close()
    secrets = [
        *SECRET_REFS,
        SECRET_REASON_WORDS,
        *SECRET_USERS,
        "zqx_watchlist_adder",
        "custody photo zqx",
        "zqx-camera-secret",
        "zqx stop",
        "Secret draft place zqx",
        "zqx internal criteria text",
        "zqx internal threshold justification",
        "zqx",  # every secret above carries it
    ]
    return PublicWorld(running, ended, active, upcoming, cancelled, draft, secrets, images)
