"""The audit log for auditors: read it, verify its hash chain."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from overt import __version__
from overt.api.deps import services
from overt.api.schemas import AuditEntryOut, AuditProblemOut, AuditVerifyOut, HealthOut
from overt.api.security import allow, current_user
from overt.audit.crosscheck import verify_all
from overt.audit.log import AuditLog
from overt.domain.users import Permission, User

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", response_model=list[AuditEntryOut], **allow(Permission.VIEW_AUDIT))
def audit_entries(
    request: Request,
    action: str | None = Query(default=None, max_length=64),
    limit: int = Query(default=200, ge=1, le=5000),
    user: User = Depends(current_user),
) -> list[AuditEntryOut]:
    with services(request).store.transaction() as tx:
        entries = tx.audit.entries(action=action, limit=limit)
        tx.audit.append(user.name, "audit.viewed", "audit", {"entries": len(entries)})
    return [
        AuditEntryOut(
            seq=e.seq, at=e.at, actor=e.actor, action=e.action, target=e.target, details=dict(e.details), hash=e.hash
        )
        for e in reversed(entries)
    ]


@router.post("/audit/verify", response_model=AuditVerifyOut, **allow(Permission.VIEW_AUDIT))
def audit_verify(request: Request, user: User = Depends(current_user)) -> AuditVerifyOut:
    """Recompute the hash chain and its MACs and cross-check the governance tables; report
    edited, forged, deleted, reordered or truncated entries and each disagreement."""
    with services(request).store.db.session() as s:
        report = verify_all(s, AuditLog(s, services(request).store.clock))
    with services(request).store.transaction() as tx:
        tx.audit.append(user.name, "audit.verified", "audit", {"ok": report.ok, "entries": report.entries})
    return AuditVerifyOut(
        ok=report.ok,
        entries=report.entries,
        head_hash=report.head_hash,
        problems=[AuditProblemOut(seq=p.seq, kind=p.kind, message=p.message) for p in report.problems],
    )


@router.get("/health", response_model=HealthOut, **allow(public=True))
def health() -> HealthOut:
    return HealthOut(status="ok", version=__version__)
