"""What an authorising officer reviews before authorising a deployment (audited).

The entries that the snapshot would hold (active, in the plan's categories, not overdue for
review) with their case reference, reason, provenance and image, and the false alerts to expect
from a watch list of that size at the plan's threshold. The authorisation itself carries the
officer's note into the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from overt.deployments.service import DeploymentService
from overt.domain.deployments import DeploymentState
from overt.domain.users import Permission, User
from overt.domain.watchlist import WatchlistEntry
from overt.errors import GovernanceError, NotFoundError
from overt.store.store import Store
from overt.watchlist.snapshots import expected_false_alerts_per_1000


@dataclass(frozen=True, slots=True)
class AuthorisationReview:
    deployment_id: int
    min_similarity: float
    entries: tuple[WatchlistEntry, ...]
    overdue_excluded: int
    expected_false_alerts_per_1000: float
    estimate_basis: str


class AuthorisationReviews:
    def __init__(self, store: Store, deployments: DeploymentService) -> None:
        self.store = store
        self.deployments = deployments

    def _candidates(self, deployment_id: int) -> tuple[list[WatchlistEntry], int, float, str | None]:
        d = self.deployments.show(deployment_id).deployment
        if d.state is not DeploymentState.DRAFT:
            raise GovernanceError(f"deployment {deployment_id} is {d.state.value}: only a draft is reviewed")
        today: date = self.store.clock.now().date()
        with self.store.transaction() as tx:
            ids = tx.watchlist.active_ids(d.plan.categories)
            entries = [tx.watchlist.get(i) for i in ids]
        kept = [e for e in entries if e.provenance.review_on > today]
        return kept, len(entries) - len(kept), d.plan.min_similarity, d.plan.calibration_profile

    def review(self, actor: User, deployment_id: int) -> AuthorisationReview:
        actor.require(Permission.AUTHORISE_DEPLOYMENT)
        kept, overdue, threshold, profile_name = self._candidates(deployment_id)
        profile = self.deployments.profile(profile_name) if profile_name else None
        fa, basis = expected_false_alerts_per_1000(threshold, len(kept), profile)
        with self.store.transaction() as tx:
            tx.audit.append(
                actor.name, "deployment.review_viewed", f"deployment:{deployment_id}", {"entries": len(kept)}
            )
        return AuthorisationReview(deployment_id, threshold, tuple(kept), overdue, fa, basis)

    def entry_image(self, actor: User, deployment_id: int, entry_id: int) -> bytes:
        """An image of an entry under review (only entries the snapshot would hold; audited)."""
        actor.require(Permission.AUTHORISE_DEPLOYMENT)
        kept, _, _, _ = self._candidates(deployment_id)
        if entry_id not in {e.id for e in kept}:
            raise NotFoundError(f"entry {entry_id} is not under review for deployment {deployment_id}")
        with self.store.transaction() as tx:
            data = tx.watchlist.image(entry_id)
            tx.audit.append(actor.name, "watchlist.image_viewed", f"entry:{entry_id}", {"review_of": deployment_id})
        return data
