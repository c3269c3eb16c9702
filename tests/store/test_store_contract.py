"""Store contract: the same tests against SQLite and a real PostgreSQL server."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select, update

from overt.crypto.keys import MemoryKeyStore
from overt.domain.clock import FakeClock
from overt.domain.deployments import DeploymentPlan, DeploymentState
from overt.domain.templates import Template
from overt.domain.users import Role
from overt.domain.watchlist import Category, EntryDetails, EntryProvenance, SnapshotSubject, WatchlistSnapshot
from overt.errors import DecryptionError, InputError, KeyDestroyedError, NotFoundError, WrongKeyError
from overt.store import Store
from overt.store.models import DataKeyRow, WatchlistEntryRow
from tests.store_fixtures import OpenStore


def _template(seed: int) -> Template:
    v = np.random.default_rng(seed).standard_normal(512).astype(np.float32)
    return Template(v, "arcface_w600k_mbf")


def _plan(start: datetime) -> DeploymentPlan:
    return DeploymentPlan(
        purpose="Locate wanted suspects",
        legal_basis="common law policing powers",
        place="High Street",
        planned_start=start,
        planned_end=start + timedelta(hours=6),
        criteria="wanted by court for serious offences",
        categories=(Category.WANTED_BY_COURT,),
        min_similarity=0.45,
        threshold_justification="calibrated",
        geofence=((51.5, -0.1), (51.6, -0.1), (51.6, -0.2)),
    )


def _add_entry(store: Store, ref: str, seed: int) -> int:
    with store.transaction() as tx:
        return tx.watchlist.add(
            EntryDetails(ref, "warrant 123", "custody photo"),
            EntryProvenance(Category.WANTED_BY_COURT, "PACE s64A", date(2025, 1, 1), date(2027, 1, 1)),
            image=b"\xff\xd8\xff\xe0fake-jpeg",
            template=_template(seed),
            added_by="wm",
            now=store.clock.now(),
        )


def test_migrations_are_idempotent(store: Store) -> None:
    store.db.migrate()
    assert store.db.current_revision() == store.db.head_revision() is not None


def test_users(store: Store) -> None:
    with store.transaction() as tx:
        tx.users.add("alice", Role.ADMIN, "h", created_by=None, now=store.clock.now())
        with pytest.raises(InputError, match="already exists"):
            tx.users.add("alice", Role.OPERATOR, "h", created_by=None, now=store.clock.now())
    with store.transaction() as tx:
        got = tx.users.get_with_hash("alice")
        assert got is not None
        assert got[0].role is Role.ADMIN
        assert [u.name for u in tx.users.find()] == ["alice"]


def test_deployment_roundtrip_keeps_aware_times(store: Store, clock: FakeClock) -> None:
    plan = _plan(clock.now())
    with store.transaction() as tx:
        d = tx.deployments.add(plan, created_by="op", now=clock.now())
    with store.transaction() as tx:
        got = tx.deployments.get(d.id)
        assert got.plan == plan
        assert got.plan.planned_start.tzinfo is not None
        assert got.state is DeploymentState.DRAFT
        got = tx.deployments.save(got.authorise("officer", clock.now()))
        tx.deployments.add_faces_processed(d.id, 10)
        assert [x.id for x in tx.deployments.find(DeploymentState.AUTHORISED)] == [d.id]
    with store.transaction() as tx:
        assert tx.deployments.get(d.id).counters.faces_processed == 10
        with pytest.raises(NotFoundError):
            tx.deployments.get(999)


def test_watchlist_entry_encrypted_roundtrip_and_remove(store: Store) -> None:
    eid = _add_entry(store, "CASE-1", 1)
    with store.transaction() as tx:
        e = tx.watchlist.get(eid)
        assert e.details.subject_ref == "CASE-1"
        assert "CASE-1" not in repr(e)
        assert tx.watchlist.image(eid) == b"\xff\xd8\xff\xe0fake-jpeg"
        np.testing.assert_allclose(tx.watchlist.template(eid).vector, _template(1).vector)
    with pytest.raises(InputError, match="duplicate subject reference"):
        _add_entry(store, " case-1 ", 2)
    with store.transaction() as tx:
        tx.watchlist.remove(eid, by="wm", now=store.clock.now(), reason="found safe")
    with store.transaction() as tx:
        with pytest.raises(KeyDestroyedError):
            tx.watchlist.image(eid)
        assert tx.watchlist.find() == []
        assert len(tx.watchlist.find(active_only=False)) == 1
    _add_entry(store, "CASE-1", 3)  # the reference is free again


def test_ciphertext_moved_to_another_row_fails(store: Store) -> None:
    a, b = _add_entry(store, "A", 1), _add_entry(store, "B", 2)
    with store.db.session() as s:
        ra, rb = s.get(WatchlistEntryRow, a), s.get(WatchlistEntryRow, b)
        assert ra is not None
        assert rb is not None
        blob, key = ra.template_blob, ra.key_id
        s.execute(update(WatchlistEntryRow).where(WatchlistEntryRow.id == b).values(template_blob=blob, key_id=key))
    with store.transaction() as tx, pytest.raises(DecryptionError, match="does not authenticate"):
        tx.watchlist.template(b)


def test_snapshot_create_load_and_shred(store: Store, clock: FakeClock) -> None:
    with store.transaction() as tx:
        d = tx.deployments.add(_plan(clock.now()), created_by="op", now=clock.now())
        snap = WatchlistSnapshot(d.id, "arcface_w600k_mbf", (SnapshotSubject(1, "REF", Category.OTHER, _template(5)),))
        info = tx.snapshots.create(snap, now=clock.now())
        assert info.entry_count == 1
    with store.transaction() as tx:
        got = tx.snapshots.load(d.id)
        assert got.subjects[0].subject_ref == "REF"
        assert tx.snapshots.destroy(d.id, now=clock.now())
    with store.transaction() as tx:
        with pytest.raises(KeyDestroyedError):
            tx.snapshots.load(d.id)
        info2 = tx.snapshots.info(d.id)
        assert info2 is not None
        assert info2.destroyed
    with store.db.session() as s:
        key = s.scalar(select(DataKeyRow).where(DataKeyRow.purpose == "snapshot"))
        assert key is not None
        assert key.wrapped is None


def test_alerts_crop_adjudication_and_purge_selection(store: Store, clock: FakeClock) -> None:
    with store.transaction() as tx:
        d = tx.deployments.add(_plan(clock.now()), created_by="op", now=clock.now())
        a1 = tx.alerts.add(
            deployment_id=d.id, camera_id="cam1", entry_id=1, similarity=0.6, raised_at=clock.now(), crop=b"crop"
        )
        a2 = tx.alerts.add(deployment_id=d.id, camera_id="cam1", entry_id=1, similarity=0.5, raised_at=clock.now())
        tx.alerts.adjudicate(a1.id, "true_match", by="op", now=clock.now(), engaged=True, outcome="arrest")
        tx.alerts.adjudicate(a2.id, "false_match", by="op", now=clock.now())
        tx.alerts.retain(a1.id, reason="evidence for case", until=clock.now() + timedelta(days=30))
    with store.transaction() as tx:
        assert tx.alerts.crop(a1.id) == b"crop"
        c = tx.deployments.get(d.id).counters
        assert (c.alerts_raised, c.alerts_true, c.alerts_false, c.engagements) == (2, 1, 1, 1)
        assert c.outcomes == (("arrest", 1),)
        due = tx.alerts.due_for_purge(clock.now() + timedelta(hours=25), timedelta(hours=24))
        assert [a.id for a in due] == [a2.id]
        tx.alerts.delete(a2.id)
        assert [a.id for a in tx.alerts.find(d.id)] == [a1.id]


def test_wrong_kek_is_refused_and_destroys_nothing(open_store: OpenStore) -> None:
    s1 = open_store()
    eid = _add_entry(s1, "X", 1)
    with pytest.raises(WrongKeyError, match="does not belong"):
        open_store(MemoryKeyStore())
    with s1.transaction() as tx:
        assert tx.watchlist.get(eid).details.subject_ref == "X"


def test_rotate_rewraps_without_touching_data(open_store: OpenStore) -> None:
    ks = MemoryKeyStore()
    s1 = open_store(ks)
    eid = _add_entry(s1, "R", 1)
    with s1.db.session() as s:
        before = s.scalars(select(WatchlistEntryRow.template_blob)).one()
    new = MemoryKeyStore()
    n = s1.rotate_kek(new.load_kek(), actor="admin")
    assert n == 3  # subject key + blind-index key + audit-chain key
    with pytest.raises(WrongKeyError):
        open_store(ks)
    s2 = open_store(new)
    with s2.transaction() as tx:
        assert tx.watchlist.get(eid).details.subject_ref == "R"
        assert tx.audit.verify().ok
    with s2.db.session() as s:
        assert s.scalars(select(WatchlistEntryRow.template_blob)).one() == before


def test_migrations_match_the_models(store: Store) -> None:
    """Autogenerate finds nothing to do: the shipped migration builds exactly the models' schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from overt.store.models import Base

    with store.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
