"""Alerts: list, view, images (audited), adjudication, WebSocket push, and edge ingest."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
from collections.abc import Sequence
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response
from starlette.requests import HTTPConnection

from overt.alerts.followups import AlertFollowups
from overt.alerts.review import AlertQuality, AlertView, IncomingAlert, entry_id_of
from overt.api.deps import Services, services
from overt.api.fanout import AlertFanout, Close
from overt.api.schemas import AdjudicationIn, AdjudicationOut, AlertOut, Id, IngestAlertIn, IngestOut, QueryId
from overt.api.schemas_console import CaseOut, FollowupIn, health_out
from overt.api.security import Principal, allow, current_principal, current_user, ws_allow
from overt.domain.alerts import PadResult, SignedEvidence
from overt.domain.users import Permission, User
from overt.errors import AuthError, InputError
from overt.users.tokens import check_device_camera
from overt.vision.imageio import media_type

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["alerts"])
VIEW = allow(Permission.ADJUDICATE, Permission.REPORT)
IMAGES = allow(Permission.ADJUDICATE)
JPEG: dict[str, Any] = {"content": {"image/jpeg": {}}}
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def alert_out(view: AlertView) -> AlertOut:
    return AlertOut.model_validate(view, from_attributes=True)


def _b64(value: str | None, field: str) -> bytes | None:
    if not value:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InputError(f"{field} is not base64") from None


def incoming(body: IngestAlertIn) -> IncomingAlert:
    """The posted JSON as the review service's input (base64 decoded; the service checks the rest)."""
    q = body.quality
    evidence: SignedEvidence | None = None
    if body.evidence is not None:
        try:
            evidence = SignedEvidence(
                record=base64.b64decode(body.evidence.record_b64, validate=True),
                signature=base64.b64decode(body.evidence.signature_b64, validate=True),
                public_key=base64.b64decode(body.evidence.public_key_b64, validate=True),
            )
        except (binascii.Error, ValueError, InputError):
            raise AuthError("alert refused: its evidence is malformed") from None
    return IncomingAlert(
        remote_id=body.alert_id,
        camera_id=body.camera,
        entry_id=entry_id_of(body.subject),
        similarity=body.similarity,
        track_id=str(body.track_id),
        raised_at=body.alerted_at,
        crop_jpeg=_b64(body.probe_crop_jpeg_b64, "probe_crop_jpeg_b64"),
        context_jpeg=_b64(body.context_jpeg_b64, "context_jpeg_b64"),
        scene_jpeg=_b64(body.scene_jpeg_b64, "scene_jpeg_b64"),
        quality=None if q is None else AlertQuality(q.size_px, q.det_score, q.sharpness, q.yaw_deg, q.roll_deg),
        latency_ms=body.latency_ms,
        frame_index=body.frame_index,
        integrity_flags=tuple(body.integrity_flags),
        pad=None if body.pad is None else PadResult(body.pad.backend, body.pad.score, body.pad.live),
        evidence=evidence,
    )


@router.get("/alerts", response_model=list[AlertOut], **VIEW)
def list_alerts(
    request: Request,
    deployment_id: QueryId = None,
    open_only: bool = False,
    after_id: QueryId = None,
    limit: int = Query(default=200, ge=1, le=1000),
) -> list[AlertOut]:
    """Newest first. ``after_id``: only alerts raised after that one (a console catching up after a
    reconnect asks for those after the last it saw)."""
    found = services(request).alerts.list(
        deployment_id=deployment_id, open_only=open_only, limit=max(1, min(limit, 1000)), after_id=after_id
    )
    return [alert_out(a) for a in found]


@router.get("/alerts/{alert_id}", response_model=AlertOut, **VIEW)
def get_alert(alert_id: Id, request: Request, p: Principal = Depends(current_principal)) -> AlertOut:
    """One alert's facts (no image); the view is audited."""
    return alert_out(services(request).alerts.view(p.name, alert_id))


@router.get("/alerts/{alert_id}/crop.jpg", response_class=Response, responses={200: JPEG}, **IMAGES)
def alert_crop(alert_id: Id, request: Request, user: User = Depends(current_user)) -> Response:
    """The probe crop (decrypted for this view; the view is audited)."""
    return Response(services(request).alerts.crop(user, alert_id), media_type="image/jpeg", headers=NO_STORE)


@router.get(
    "/alerts/{alert_id}/scene",
    response_class=Response,
    responses={200: JPEG, 404: {"description": "No scene frame"}},
    **IMAGES,
)
def alert_scene(alert_id: Id, request: Request, user: User = Depends(current_user)) -> Response:
    """The redacted scene frame: every other face blurred, the alerted face boxed (decrypted for this
    view; the view is audited like the crop). 404 when the alert has none."""
    return Response(services(request).alerts.scene(user, alert_id), media_type="image/jpeg", headers=NO_STORE)


@router.get("/alerts/{alert_id}/watchlist.jpg", response_class=Response, responses={200: JPEG}, **IMAGES)
def alert_watchlist_image(alert_id: Id, request: Request, p: Principal = Depends(current_principal)) -> Response:
    """The matched entry's watch-list image, for side-by-side adjudication (audited)."""
    data = services(request).alerts.watchlist_image(p.name, alert_id)
    return Response(data, media_type=media_type(data), headers=NO_STORE)


@router.post("/alerts/{alert_id}/adjudication", response_model=AdjudicationOut, **allow(Permission.ADJUDICATE))
def adjudicate(
    alert_id: Id, body: AdjudicationIn, request: Request, user: User = Depends(current_user)
) -> AdjudicationOut:
    """Confirm or reject an alert, with the outcome. With two-person confirmation on, a true
    match needs a second operator's matching verdict before it counts."""
    svc = services(request)
    alert, counted = svc.alerts.adjudicate(user, alert_id, body.verdict, body.outcome)
    svc.notifier.publish_update(alert_id)
    return AdjudicationOut(alert=alert_out(alert), counted=counted)


@router.post("/alerts/{alert_id}/followups", response_model=AlertOut, **allow(Permission.ADJUDICATE))
def followup(alert_id: Id, body: FollowupIn, request: Request, user: User = Depends(current_user)) -> AlertOut:
    """A later step, recorded as a new audited event (never an edit): ``outcome`` (learnt after the
    verdict), ``correction`` (another verdict, with a reason) or ``retain`` (as evidence: reason, days).
    With two-person confirmation on, a correction to a true match is proposed (``corr_proposed``) and
    counts once a second operator records the same correction (the proposer's own: 409)."""
    svc = services(request)
    f = AlertFollowups(svc.store, second_person=svc.alerts.second_person)
    if body.kind == "outcome":
        if body.outcome is None:
            raise InputError("an outcome follow-up needs the outcome")
        f.record_outcome(user, alert_id, body.outcome)
    elif body.kind == "correction":
        if body.verdict is None:
            raise InputError("a correction needs the verdict")
        f.correct_verdict(user, alert_id, body.verdict, body.reason or "")
    else:
        if body.days is None:
            raise InputError("retaining needs the number of days")
        f.retain(user, alert_id, reason=body.reason or "", days=body.days)
    svc.notifier.publish_update(alert_id)
    return alert_out(svc.alerts.get(alert_id))


@router.post("/alerts/{alert_id}/undo", response_model=AlertOut, **allow(Permission.ADJUDICATE))
def undo(alert_id: Id, request: Request, user: User = Depends(current_user)) -> AlertOut:
    """Undo one's own verdict (or second-person proposal) within the undo window: a new audited
    event; the alert is open again. Someone else's verdict: 403; after the window: 409 (record a
    correction instead)."""
    svc = services(request)
    AlertFollowups(svc.store).undo(user, alert_id)
    svc.notifier.publish_update(alert_id)
    return alert_out(svc.alerts.get(alert_id))


@router.get("/alerts/{alert_id}/case", response_model=CaseOut, **IMAGES)
def alert_case(alert_id: Id, request: Request, user: User = Depends(current_user)) -> CaseOut:
    """The matched entry's case reference, reason and category, for adjudication (the view is audited)."""
    c = AlertFollowups(services(request).store).case(user, alert_id)
    return CaseOut(
        alert_id=c.alert_id, entry_id=c.entry_id, case_ref=c.subject_ref, reason=c.reason, category=c.category
    )


@router.post("/ingest/alerts", response_model=IngestOut, status_code=201, **allow(device=True))
def ingest_alert(body: IngestAlertIn, request: Request, p: Principal = Depends(current_principal)) -> IngestOut:
    """An edge pipeline posts an alert (device token, bound to one deployment). Idempotent on alert_id."""
    if p.deployment_id is None:
        raise AuthError("this token is not bound to a deployment")
    check_device_camera(p.cameras, body.camera)
    svc = services(request)
    alert_id, dup = svc.alerts.ingest(p.name, p.deployment_id, incoming(body), token_id=p.token_id)
    if not dup:
        svc.notifier.publish(alert_id)
        if body.context_jpeg_b64:
            svc.live.update_frame_b64(p.deployment_id, body.context_jpeg_b64)
    return IngestOut(alert_id=alert_id, duplicate=dup)


def _still_allowed(svc: Services, conn: HTTPConnection) -> bool:
    """Checked once per credential per heartbeat by the fan-out: a logout, expiry, disabled account
    or revoked token ends the stream."""
    try:
        p = svc.auth.authenticate(conn)
    except HTTPException:
        return False
    return p is not None and p.can(Permission.ADJUDICATE)


def _render(svc: Services, batch: Sequence[tuple[str, int]]) -> list[str]:
    """The batch's alerts loaded together, each serialised once (for every console of this process)."""
    views = {v.id: v for v in svc.alerts.get_many(sorted({alert_id for _, alert_id in batch}))}  # a few queries
    frames: list[str] = []
    rendered: dict[int, str] = {}
    for kind, alert_id in batch:
        view = views.get(alert_id)
        if view is None:  # deleted meanwhile (purge): skip it
            log.info("alert %d vanished before it was pushed", alert_id)
            continue
        if alert_id not in rendered:
            rendered[alert_id] = alert_out(view).model_dump_json()
        frames.append(f'{{"type":"{kind}","alert":{rendered[alert_id]}}}')
    return frames


def _heartbeat(svc: Services) -> str:
    health = health_out(svc.liveness.health()).model_dump(mode="json")
    return json.dumps({"type": "heartbeat", "pipeline": health, "every_s": svc.settings.ws_heartbeat_s})


def fanout(svc: Services) -> AlertFanout:
    """This process's one alert fan-out (made on first use; the app's lifespan stops it)."""
    if svc.fanout is None:
        svc.fanout = AlertFanout(
            svc.notifier,
            render=partial(_render, svc),
            allowed=partial(_still_allowed, svc),
            heartbeat=partial(_heartbeat, svc),
            heartbeat_s=svc.settings.ws_heartbeat_s,
        )
    return svc.fanout


@router.websocket("/ws/alerts")
@ws_allow(Permission.ADJUDICATE)
async def alerts_ws(ws: WebSocket, p: Principal = Depends(current_principal)) -> None:
    """Pushes ``{"type": "alert", "alert": AlertOut}`` for each new alert, ``{"type": "update", ...}``
    when one is adjudicated, and ``{"type": "heartbeat", "pipeline": PipelineHealthOut, ...}`` every
    ``ws_heartbeat_s``. Before each heartbeat the session is checked again (which keeps it alive while
    a console is open on the queue); once it has ended the socket closes with code 4401, and the
    console shows that it is not receiving alerts. A console that falls behind (its queue full) is
    closed with code 1013: it reconnects and fetches what it missed with ``?after_id``. Session
    cookie or bearer token."""
    svc = services(ws)
    origin = ws.headers.get("origin")
    host = ws.headers.get("host")
    if origin is not None and host is not None and origin.split("://", 1)[-1] != host:
        await ws.close(code=1008, reason="cross-origin WebSocket refused")
        return
    await ws.accept()
    fan = fanout(svc)
    sub = await fan.subscribe(ws)
    recv = asyncio.create_task(ws.receive_text())
    try:
        while True:
            get = asyncio.create_task(sub.queue.get())
            done, _ = await asyncio.wait({get, recv}, return_when=asyncio.FIRST_COMPLETED)
            if recv in done:
                get.cancel()
                recv.result()  # raises WebSocketDisconnect when the client leaves
                recv = asyncio.create_task(ws.receive_text())
                continue
            frame = get.result()
            while True:
                if isinstance(frame, Close):
                    await ws.close(code=frame.code, reason=frame.reason)
                    return
                await ws.send_text(frame)
                if sub.queue.empty():
                    break
                frame = sub.queue.get_nowait()
    except WebSocketDisconnect:
        pass
    finally:
        fan.unsubscribe(sub)
        recv.cancel()
