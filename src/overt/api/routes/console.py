"""What the console needs beside the REST resources: is the pipeline processing frames now? What
exactly does an officer authorise?"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from overt.api.deps import services
from overt.api.schemas import AuditEntryOut, Id, QueryId
from overt.api.schemas_console import AuditPageOut, PipelineHealthOut, ReviewEntryOut, ReviewOut, health_out
from overt.api.security import allow, current_user
from overt.audit.browse import AuditFilter, browse
from overt.deployments.review import AuthorisationReviews
from overt.domain.users import Permission, User
from overt.errors import InputError

router = APIRouter(prefix="/api/v1", tags=["console"])


@router.get(
    "/pipeline/health",
    response_model=PipelineHealthOut,
    **allow(Permission.ADJUDICATE, Permission.RUN_DEPLOYMENT, Permission.REPORT),
)
def pipeline_health(request: Request, deployment_id: QueryId = None) -> PipelineHealthOut:
    """Per camera: when a frame was last processed, its age, and live/stale/down. ``none`` when no
    pipeline has reported (e.g. only ``overt serve`` is running)."""
    return health_out(services(request).liveness.health(deployment_id))


@router.get("/deployments/{deployment_id}/review", response_model=ReviewOut, **allow(Permission.AUTHORISE_DEPLOYMENT))
def authorisation_review(deployment_id: Id, request: Request, user: User = Depends(current_user)) -> ReviewOut:
    """What the officer authorises: the entries the snapshot would hold (references, reasons,
    provenance) and the false alerts to expect. Only for a draft; the view is audited."""
    svc = services(request)
    r = AuthorisationReviews(svc.store, svc.deployments).review(user, deployment_id)
    return ReviewOut(
        deployment_id=r.deployment_id,
        min_similarity=r.min_similarity,
        entries=[
            ReviewEntryOut(
                id=e.id,
                case_ref=e.details.subject_ref,
                reason=e.details.reason,
                image_source=e.details.image_source,
                category=e.provenance.category.value,
                legal_basis=e.provenance.legal_basis,
                taken_on=e.provenance.taken_on,
                review_on=e.provenance.review_on,
                under_18=e.provenance.under_18,
                added_by=e.added_by,
                added_at=e.added_at,
            )
            for e in r.entries
        ],
        overdue_excluded=r.overdue_excluded,
        expected_false_alerts_per_1000=r.expected_false_alerts_per_1000,
        estimate_basis=r.estimate_basis,
    )


@router.get(
    "/deployments/{deployment_id}/review/entries/{entry_id}/image.jpg",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
    **allow(Permission.AUTHORISE_DEPLOYMENT),
)
def review_image(deployment_id: Id, entry_id: Id, request: Request, user: User = Depends(current_user)) -> Response:
    """An image of an entry under review (audited)."""
    svc = services(request)
    data = AuthorisationReviews(svc.store, svc.deployments).entry_image(user, deployment_id, entry_id)
    media = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return Response(data, media_type=media, headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.get("/audit/page", response_model=AuditPageOut, **allow(Permission.VIEW_AUDIT))
def audit_page(
    request: Request,
    action: str | None = Query(default=None, max_length=64, description="Exact action, or a prefix ending in '.'."),
    actor: str | None = Query(default=None, max_length=64),
    since: datetime | None = None,
    until: datetime | None = None,
    before_seq: int | None = Query(default=None, ge=1, description="Older than this entry (the next page)."),
    limit: int = Query(default=100, ge=1, le=500),
    user: User = Depends(current_user),
) -> AuditPageOut:
    """One page of the audit log, newest first, filtered; ``next_before_seq`` fetches the next."""
    for t in (since, until):
        if t is not None and t.tzinfo is None:
            raise InputError("since and until need a timezone")
    page = browse(
        user,
        services(request).store,
        AuditFilter(action=action, actor=actor, since=since, until=until),
        before_seq=before_seq,
        limit=limit,
    )
    return AuditPageOut(
        entries=[
            AuditEntryOut(
                seq=e.seq, at=e.at, actor=e.actor, action=e.action, target=e.target, details=e.details, hash=e.hash
            )
            for e in page.entries
        ],
        matching=page.matching,
        next_before_seq=page.next_before_seq,
    )
