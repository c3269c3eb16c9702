"""A deployment's frozen watch list as the live matcher's gallery, and its authorised settings.

Removal takes effect: removing a watch-list entry leaves a tombstone (the entry row's
``removed_at``). The gallery of every running deployment checks the tombstones of its
snapshot's entries (:meth:`LiveSnapshot.apply_revocations`, about once a second) and drops a
removed subject from the pipeline at once; the snapshot is filtered the same way when loaded.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from overt.config import PipelineConfig
from overt.deployments.service import DeploymentService
from overt.matching.gallery import Gallery, build_gallery
from overt.store.store import Store

log = logging.getLogger(__name__)


class Revocable(Protocol):
    """A running pipeline that can drop subjects (``overt.pipeline.Pipeline``)."""

    def revoke(self, subjects: frozenset[str], gallery: Gallery) -> None: ...


@dataclass(eq=False)
class LiveSnapshot:
    """The unsealed snapshot of one deployment, in memory only, minus revoked entries."""

    store: Store
    deployment_id: int
    model_id: str
    entry_ids: tuple[int, ...]
    vectors: npt.NDArray[np.float32] = field(repr=False)
    backend: str = "auto"
    check_every_s: float = 1.0
    revoked: set[int] = field(default_factory=set)
    _last_check: float = 0.0

    def __len__(self) -> int:
        return len(self.entry_ids) - len(self.revoked)

    def gallery(self) -> Gallery:
        keep = [i for i, e in enumerate(self.entry_ids) if e not in self.revoked]
        subjects = [str(self.entry_ids[i]) for i in keep]
        vectors = self.vectors[keep] if keep else np.zeros((0, self.vectors.shape[1] or 512), np.float32)
        return build_gallery(subjects, vectors, model_id=self.model_id, backend=self.backend)  # type: ignore[arg-type]

    def removed(self) -> set[int]:
        """Entries of this snapshot removed from the watch list since it was loaded (tombstones)."""
        with self.store.transaction() as tx:
            gone = set(tx.watchlist.removed_among(self.entry_ids))
        return gone - self.revoked

    def apply_revocations(self, pipeline: Revocable, *, force: bool = False) -> set[int]:
        """Drop newly removed entries from the running pipeline (checked at most every ``check_every_s``)."""
        now = time.monotonic()
        if not force and now - self._last_check < self.check_every_s:
            return set()
        self._last_check = now
        newly = self.removed()
        if not newly:
            return set()
        self.revoked |= newly
        pipeline.revoke(frozenset(str(e) for e in newly), self.gallery())
        with self.store.transaction() as tx:
            for e in sorted(newly):
                tx.audit.append("system", "snapshot.entry_dropped", f"deployment:{self.deployment_id}", {"entry": e})
        log.info("deployment %d: %d removed watch-list entr(y/ies) dropped", self.deployment_id, len(newly))
        return newly


def load_live_snapshot(store: Store, deployment_id: int, *, backend: str = "auto") -> LiveSnapshot:
    """Unseal the deployment's snapshot into memory (audited), leaving out removed entries."""
    with store.transaction() as tx:
        snap = tx.snapshots.load(deployment_id)
        ids = tuple(s.entry_id for s in snap.subjects)
        removed = set(tx.watchlist.removed_among(ids))
        tx.audit.append(
            "system",
            "snapshot.loaded",
            f"deployment:{deployment_id}",
            {"subjects": len(snap) - len(removed), "removed_excluded": len(removed)},
        )
    if snap.subjects:
        vectors = np.stack([s.template.vector for s in snap.subjects]).astype(np.float32)
    else:
        vectors = np.zeros((0, 512), dtype=np.float32)
    return LiveSnapshot(store, deployment_id, snap.model_id, ids, vectors, backend=backend, revoked=removed)


def snapshot_gallery(store: Store, deployment_id: int, *, backend: str = "auto") -> Gallery:
    """The deployment's frozen watch list as a gallery keyed by entry id (memory only; audited)."""
    return load_live_snapshot(store, deployment_id, backend=backend).gallery()


def deployment_pipeline_config(store: Store, deployment_id: int, base: PipelineConfig) -> PipelineConfig:
    """The pipeline settings with the deployment's authorised alert threshold (``min_similarity``).

    The threshold was justified and authorised with the deployment: the pipeline must use it, not
    the model's default.
    """
    view = DeploymentService(store).show(deployment_id)
    return base.model_copy(update={"min_similarity": view.deployment.plan.min_similarity})
