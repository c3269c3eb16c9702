"""The device-alert checks: snapshot membership, similarity, time window with skew, bounded JPEGs."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from overt.alerts.ingest_checks import (
    CLOCK_SKEW,
    MAX_CROP_PX,
    DeviceAlertClaim,
    IngestRejectedError,
    check_claim,
    check_jpeg,
    validate_device_alert,
)
from overt.deployments import DeploymentService
from overt.domain.clock import FakeClock
from overt.errors import GovernanceError
from overt.store import Store
from overt.users import UserService
from tests.gov_helpers import add_entry, plan, publish_late, users


def _jpeg(w: int, h: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (9, 9, 9)).save(buf, "JPEG")
    return buf.getvalue()


def test_check_jpeg_bounds() -> None:
    assert check_jpeg(_jpeg(112, 112), what="crop", max_bytes=10**6, max_px=512) == (112, 112)
    with pytest.raises(IngestRejectedError, match="at most 512x512") as e:
        check_jpeg(_jpeg(513, 10), what="crop", max_bytes=10**6, max_px=MAX_CROP_PX)
    assert e.value.code == "image_too_large"
    with pytest.raises(IngestRejectedError, match="bytes"):
        check_jpeg(_jpeg(112, 112), what="crop", max_bytes=100, max_px=512)
    with pytest.raises(IngestRejectedError, match="does not decode"):
        check_jpeg(_jpeg(112, 112)[:300], what="crop", max_bytes=10**6, max_px=512)  # truncated
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    with pytest.raises(IngestRejectedError, match="not a JPEG"):
        check_jpeg(buf.getvalue(), what="crop", max_bytes=10**6, max_px=512)


@pytest.fixture
def active(store: Store, clock: FakeClock) -> tuple[int, int]:
    u = users(store)
    eid = add_entry(store, "CASE-1", 1)
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(clock.now() - timedelta(minutes=1)))
    svc.authorise(u["officer"], d.id)
    publish_late(svc, u, d.id)
    svc.start(u["op"], d.id)
    return d.id, eid


def _claim(dep: int, subject: int | None, clock: FakeClock, **kw: object) -> DeviceAlertClaim:
    base: dict[str, object] = {"similarity": 0.5, "raised_at": clock.now()}
    base.update(kw)
    return DeviceAlertClaim(dep, subject, **base)  # type: ignore[arg-type]


@pytest.mark.parametrize("subject", [0, -1, None, 2**60])
def test_entry_ids_must_be_positive_numbers(
    store: Store, clock: FakeClock, active: tuple[int, int], subject: int | None
) -> None:
    with store.transaction() as tx, pytest.raises(IngestRejectedError) as e:
        check_claim(tx, _claim(active[0], subject, clock), clock.now())
    assert e.value.code == "bad_entry"


def test_clock_skew_and_window_edges(store: Store, clock: FakeClock, active: tuple[int, int]) -> None:
    dep, eid = active
    now = clock.now()
    with store.transaction() as tx:
        assert check_claim(tx, _claim(dep, eid, clock, raised_at=now + CLOCK_SKEW), now) == eid
        assert check_claim(tx, _claim(dep, eid, clock, similarity=1.0), now) == eid
        for raised, code in [
            (now + CLOCK_SKEW + timedelta(seconds=1), "time_in_future"),
            (now - timedelta(minutes=1) - CLOCK_SKEW - timedelta(seconds=1), "time_outside_window"),
        ]:
            with pytest.raises(IngestRejectedError) as e:
                check_claim(tx, _claim(dep, eid, clock, raised_at=raised), now)
            assert e.value.code == code
        for sim in (0.44, 1.01, float("nan")):
            with pytest.raises(IngestRejectedError, match="outside"):
                check_claim(tx, _claim(dep, eid, clock, similarity=sim), now)


def test_rejects_are_audited_with_the_device_and_token(store: Store, clock: FakeClock, active: tuple[int, int]) -> None:
    dep, _ = active
    with pytest.raises(IngestRejectedError):
        validate_device_alert(store, _claim(dep, 424242, clock), actor="device:van-3", token_id=7)
    with store.transaction() as tx:
        e = tx.audit.entries(action="alert.rejected")[-1]
    assert (e.actor, e.target, dict(e.details)) == (
        "device:van-3",
        f"deployment:{dep}",
        {
            "reason": "not_in_snapshot",
            "token": 7,
        },
    )


def test_an_inactive_deployment_refuses_before_any_check(
    store: Store, clock: FakeClock, active: tuple[int, int]
) -> None:
    dep, eid = active

    op = UserService(store).authenticate("op", "op-pass-phrase")
    DeploymentService(store).stop(op, dep)
    with pytest.raises(GovernanceError, match="alerts are refused"):
        validate_device_alert(store, _claim(dep, eid, clock), actor="device:x", token_id=1)
