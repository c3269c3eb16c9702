"""Repositories, one module per aggregate, working inside one transaction (a ``Session``).

Encryption happens here: callers pass and receive plaintext domain objects, rows hold only
sealed blobs whose associated data is (table, row id, schema version).
"""

from overt.store.repositories.alerts import (
    AlertEvent,
    AlertEventRepository,
    AlertRepository,
    AlertReviewRepository,
    PendingReview,
    StoredAlert,
    Verdict,
)
from overt.store.repositories.deployments import DeploymentRepository
from overt.store.repositories.leases import Lease, LeaseRepository
from overt.store.repositories.snapshots import SnapshotInfo, SnapshotRepository
from overt.store.repositories.tokens import ApiToken, ApiTokenRepository, TokenKind
from overt.store.repositories.users import UserRepository
from overt.store.repositories.watchlist import WatchlistRepository, template_from_bytes, template_to_bytes
from overt.store.repositories.web_sessions import StoredSession, WebSessionRepository

__all__ = [
    "AlertEvent",
    "AlertEventRepository",
    "AlertRepository",
    "AlertReviewRepository",
    "ApiToken",
    "ApiTokenRepository",
    "DeploymentRepository",
    "Lease",
    "LeaseRepository",
    "PendingReview",
    "SnapshotInfo",
    "SnapshotRepository",
    "StoredAlert",
    "StoredSession",
    "TokenKind",
    "UserRepository",
    "Verdict",
    "WatchlistRepository",
    "WebSessionRepository",
    "template_from_bytes",
    "template_to_bytes",
]
