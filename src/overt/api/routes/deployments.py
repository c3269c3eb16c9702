"""Deployments: create, authorise, publish notice, approve a late start, start, stop, close; live view."""

from __future__ import annotations

import time

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from overt.api.deps import services
from overt.api.schemas import (
    AuthorisationOut,
    DeploymentIn,
    DeploymentOut,
    Id,
    LateStartIn,
    LiveOut,
    SnapshotOut,
    StopIn,
)
from overt.api.schemas_console import AuthoriseIn
from overt.api.security import allow, current_user
from overt.deployments.service import DeploymentView
from overt.domain.deployments import DeploymentPlan, DeploymentState
from overt.domain.users import Permission, User
from overt.errors import NotFoundError
from overt.transparency.public import PublicSite
from overt.transparency.signage import signage_pdf

router = APIRouter(prefix="/api/v1/deployments", tags=["deployments"])
VIEW = allow(
    Permission.CREATE_DEPLOYMENT, Permission.AUTHORISE_DEPLOYMENT, Permission.RUN_DEPLOYMENT, Permission.REPORT
)


def deployment_out(v: DeploymentView, now_expired: bool) -> DeploymentOut:
    d, p, c = v.deployment, v.deployment.plan, v.deployment.counters
    snap = v.snapshot
    return DeploymentOut(
        id=d.id,
        state=d.state.value,
        purpose=p.purpose,
        legal_basis=p.legal_basis,
        place=p.place,
        planned_start=p.planned_start,
        planned_end=p.planned_end,
        criteria=p.criteria,
        categories=[x.value for x in p.categories],
        min_similarity=p.min_similarity,
        threshold_justification=p.threshold_justification,
        expected_false_alerts_per_1000=p.expected_false_alerts_per_1000,
        notice_published_at=d.notice_published_at,
        late_start_by=d.late_start_by,
        late_start_reason=d.late_start_reason,
        created_by=d.created_by,
        created_at=d.created_at,
        authorised_by=d.authorised_by,
        authorised_at=d.authorised_at,
        started_at=d.started_at,
        stopped_at=d.stopped_at,
        stop_reason=d.stop_reason,
        closed_at=d.closed_at,
        expired=now_expired,
        faces_processed=c.faces_processed,
        alerts_raised=c.alerts_raised,
        snapshot=None
        if snap is None
        else SnapshotOut(
            entry_count=snap.entry_count,
            model_id=snap.model_id,
            created_at=snap.created_at,
            destroyed_at=snap.destroyed_at,
        ),
    )


def _out(request: Request, v: DeploymentView) -> DeploymentOut:
    now = services(request).store.clock.now()
    return deployment_out(v, now >= v.deployment.plan.planned_end)


@router.get("", response_model=list[DeploymentOut], **VIEW)
def list_deployments(request: Request, state: DeploymentState | None = None) -> list[DeploymentOut]:
    return [_out(request, v) for v in services(request).deployments.find(state)]


@router.post("", response_model=DeploymentOut, status_code=201, **allow(Permission.CREATE_DEPLOYMENT))
def create_deployment(body: DeploymentIn, request: Request, user: User = Depends(current_user)) -> DeploymentOut:
    plan = DeploymentPlan(
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        place=body.place,
        planned_start=body.planned_start,
        planned_end=body.planned_end,
        criteria=body.criteria,
        categories=tuple(body.categories),
        min_similarity=body.min_similarity,
        threshold_justification=body.threshold_justification,
        calibration_profile=body.calibration_profile,
        geofence=tuple((float(a), float(b)) for a, b in body.geofence) if body.geofence else None,
    )
    svc = services(request).deployments
    d = svc.create(user, plan)
    return _out(request, svc.show(d.id))


@router.get("/{deployment_id}", response_model=DeploymentOut, **VIEW)
def get_deployment(deployment_id: Id, request: Request) -> DeploymentOut:
    return _out(request, services(request).deployments.show(deployment_id))


@router.post("/{deployment_id}/authorise", response_model=AuthorisationOut, **allow(Permission.AUTHORISE_DEPLOYMENT))
def authorise(
    deployment_id: Id, request: Request, body: AuthoriseIn | None = None, user: User = Depends(current_user)
) -> AuthorisationOut:
    """Authorise a draft (freezes its watch-list snapshot). ``note``: the officer's reasons, kept in the audit log."""
    svc = services(request).deployments
    r = svc.authorise(user, deployment_id, note=body.note if body else None)
    return AuthorisationOut(
        deployment=_out(request, svc.show(deployment_id)),
        watchlist_size=r.watchlist_size,
        expected_false_alerts_per_1000=r.expected_false_alerts_per_1000,
        estimate_basis=r.estimate_basis,
        look_alikes=len(r.look_alikes),
    )


@router.post("/{deployment_id}/publish-notice", response_model=DeploymentOut, **allow(Permission.RUN_DEPLOYMENT))
def publish_notice(deployment_id: Id, request: Request, user: User = Depends(current_user)) -> DeploymentOut:
    """Publish the notice: the deployment appears on the public site as upcoming from now."""
    svc = services(request).deployments
    svc.publish_notice(user, deployment_id)
    return _out(request, svc.show(deployment_id))


@router.post("/{deployment_id}/late-start", response_model=DeploymentOut, **allow(Permission.AUTHORISE_DEPLOYMENT))
def approve_late_start(
    deployment_id: Id, body: LateStartIn, request: Request, user: User = Depends(current_user)
) -> DeploymentOut:
    """Urgent override of the notice lead time; the reason is shown on the public page."""
    svc = services(request).deployments
    svc.approve_late_start(user, deployment_id, body.reason)
    return _out(request, svc.show(deployment_id))


@router.get(
    "/{deployment_id}/signage.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, 409: {}},
    **VIEW,
)
def signage(deployment_id: Id, request: Request) -> Response:
    """The A3 and A4 sign for the place, with a QR code to the deployment's public page."""
    svc = services(request)
    site = PublicSite.for_data_dir(svc.store, svc.settings.data_dir)
    pdf = signage_pdf(site, deployment_id, base_url=site.info.public_base_url or str(request.base_url))
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="sign-{deployment_id}.pdf"'},
    )


@router.post("/{deployment_id}/start", response_model=DeploymentOut, **allow(Permission.RUN_DEPLOYMENT))
def start(deployment_id: Id, request: Request, user: User = Depends(current_user)) -> DeploymentOut:
    svc = services(request).deployments
    svc.start(user, deployment_id)
    return _out(request, svc.show(deployment_id))


@router.post("/{deployment_id}/stop", response_model=DeploymentOut, **allow(Permission.RUN_DEPLOYMENT))
def stop(
    deployment_id: Id, request: Request, body: StopIn | None = None, user: User = Depends(current_user)
) -> DeploymentOut:
    svc = services(request).deployments
    svc.stop(user, deployment_id, (body or StopIn()).reason)
    return _out(request, svc.show(deployment_id))


@router.post("/{deployment_id}/close", response_model=DeploymentOut, **allow(Permission.RUN_DEPLOYMENT))
def close(deployment_id: Id, request: Request, user: User = Depends(current_user)) -> DeploymentOut:
    svc = services(request).deployments
    svc.close(user, deployment_id)
    return _out(request, svc.show(deployment_id))


@router.get("/{deployment_id}/live", response_model=LiveOut, **allow(Permission.RUN_DEPLOYMENT, Permission.ADJUDICATE))
def live(deployment_id: Id, request: Request) -> LiveOut:
    """Camera state for the live view: connected or not, and whether a redacted frame exists."""
    svc = services(request)
    v = svc.deployments.show(deployment_id)
    st = svc.live.get(deployment_id)
    now = svc.store.clock.now()
    active = v.deployment.state is DeploymentState.ACTIVE
    beats = svc.liveness.health(deployment_id) if active else None
    processing = beats is not None and beats.state == "live"
    connected = bool(st and st.camera_connected and active)
    if not active:
        msg = f"deployment is {v.deployment.state.value}"
    elif st is None and beats is not None and beats.cameras:  # its pipeline runs elsewhere (edge, worker)
        connected = processing
        where = "an edge node" if any(c.source == "edge" for c in beats.cameras) else "another process"
        age = min(c.age_s for c in beats.cameras)
        msg = f"frames processed by {where}" if processing else f"no frame processed for {age:.0f} s ({where})"
    elif st is None:
        msg = "no camera has reported yet"
    else:
        msg = st.camera_message or ("camera connected" if st.camera_connected else "camera disconnected")
    return LiveOut(
        deployment_id=deployment_id,
        state=v.deployment.state.value,
        expired=now >= v.deployment.plan.planned_end,
        camera_connected=connected,
        processing=processing,
        camera_message=msg,
        has_frame=bool(st and st.frame_jpeg),
        frame_age_s=None if st is None or st.frame_at_s is None else round(time.monotonic() - st.frame_at_s, 2),
    )


@router.get(
    "/{deployment_id}/live.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}, 404: {}},
    **allow(Permission.RUN_DEPLOYMENT, Permission.ADJUDICATE),
)
def live_frame(deployment_id: Id, request: Request) -> Response:
    """The latest redacted frame (every face that is not an alert is blurred)."""
    svc = services(request)
    svc.deployments.show(deployment_id)
    st = svc.live.get(deployment_id)
    if st is None or st.frame_jpeg is None:
        raise NotFoundError(f"no frame from deployment {deployment_id} yet")
    return Response(st.frame_jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
