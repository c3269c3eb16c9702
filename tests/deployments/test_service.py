from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from overt.deployments import DeploymentService
from overt.domain.clock import FakeClock
from overt.domain.deployments import DeploymentState
from overt.domain.watchlist import Category
from overt.errors import AuthError, GovernanceError, KeyDestroyedError
from overt.evaluation.profiles import ModelProfile
from overt.store import Store
from overt.store.models import DataKeyRow, SnapshotRow
from overt.watchlist.snapshots import expected_false_alerts_per_1000, load_snapshot_gallery
from tests.gov_helpers import MODEL, add_entry, plan, publish_late, users


def test_lifecycle_snapshot_and_shred(store: Store, clock: FakeClock) -> None:
    u = users(store)
    add_entry(store, "CASE-1", 1)
    add_entry(store, "CASE-2", 2, Category.MISSING_PERSON)
    add_entry(store, "CASE-3", 3, Category.VULNERABLE_PERSON)  # not in the deployment's categories
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(clock.now() + timedelta(hours=1)))
    with pytest.raises(GovernanceError, match="second person"):
        svc.authorise(u["officer"], svc.create(u["officer"], plan(clock.now())).id)
    with pytest.raises(AuthError, match="may not authorise"):
        svc.authorise(u["admin"], d.id)
    with pytest.raises(GovernanceError, match="must be authorised"):
        svc.start(u["op"], d.id)
    res = svc.authorise(u["officer"], d.id)
    assert res.watchlist_size == 2
    assert 0 < res.expected_false_alerts_per_1000 < 1
    assert not res.look_alikes
    with pytest.raises(GovernanceError, match="before its planned start"):
        svc.start(u["op"], d.id)
    clock.advance(timedelta(hours=1))
    with pytest.raises(GovernanceError, match="notice has not been published"):
        svc.start(u["op"], d.id)
    publish_late(svc, u, d.id)
    assert svc.start(u["op"], d.id).state is DeploymentState.ACTIVE
    gallery = dict(load_snapshot_gallery(store, d.id))
    assert sorted(gallery) == ["CASE-1", "CASE-2"]
    svc.close(u["op"], d.id)
    with pytest.raises(KeyDestroyedError):
        load_snapshot_gallery(store, d.id)
    with store.db.session() as s:
        snap = s.scalars(select(SnapshotRow)).one()
        key = s.get(DataKeyRow, snap.key_id)
        assert key is not None
        assert key.wrapped is None
        assert key.destroyed_at is not None
    with store.transaction() as tx:
        actions = [e.action for e in tx.audit.entries()]
        assert tx.audit.verify().ok
    assert actions[-2:] == ["deployment.closed", "snapshot.destroyed"]
    assert "deployment.authorised" in actions


def test_auto_stop_and_late_shred(store: Store, clock: FakeClock) -> None:
    u = users(store)
    add_entry(store, "CASE-1", 1)
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(clock.now(), hours=2))
    svc.authorise(u["officer"], d.id)
    publish_late(svc, u, d.id)
    svc.start(u["op"], d.id)
    clock.advance(timedelta(hours=2, seconds=1))
    assert svc.tick().stopped == (d.id,)
    view = svc.show(d.id)
    assert view.deployment.state is DeploymentState.AUTHORISED
    assert view.deployment.stop_reason == "planned end reached"
    with pytest.raises(GovernanceError, match="after its planned end"):
        svc.start(u["op"], d.id)
    assert svc.show(d.id).deployment.state is DeploymentState.AUTHORISED  # auto-stop persisted
    assert load_snapshot_gallery(store, d.id)  # still readable inside the grace period
    clock.advance(timedelta(hours=24))
    assert svc.tick().shredded == (d.id,)
    with pytest.raises(KeyDestroyedError):
        load_snapshot_gallery(store, d.id)


def test_look_alikes_warned(store: Store, clock: FakeClock) -> None:
    u = users(store)
    add_entry(store, "A", 7)
    add_entry(store, "B", 7)  # same template: indistinguishable
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(clock.now()))
    res = svc.authorise(u["officer"], d.id)
    assert len(res.look_alikes) == 1
    assert res.look_alikes[0].similarity > 0.99


def _calibrated(tmp_path: Path, name: str, model_id: str = MODEL) -> ModelProfile:
    """A profile from the real writer (``overt calibrate``'s), not a hand-written file."""
    from overt.evaluation.calibrate import calibrate, make_profile
    from overt.evaluation.dataset import default_split
    from overt.evaluation.profiles import save_profile
    from tests.evaluation.test_profiles import _data

    ids, cache = _data()
    split = default_split(ids, nonmated_share=0.5, seed=0)
    cal = calibrate(split, cache, target_fpir=1 / 50, watchlist_size=30)
    prof = make_profile(
        name,
        cal,
        split,
        identities_dir=Path("/d"),
        model_id=model_id,
        model_sha256="0" * 64,
        detector_id="d",
        detector_sha256="1" * 64,
        command="overt calibrate ...",
    )
    save_profile(prof, tmp_path)
    return prof


def test_calibration_profile_written_by_calibrate_is_used(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    prof = _calibrated(tmp_path, "hq")
    u = users(store)
    add_entry(store, "A", 1)
    svc = DeploymentService(store, data_dir=tmp_path)
    threshold, why = svc.threshold("hq", None, None)
    assert threshold == prof.min_similarity
    assert "calibration profile hq" in why
    d = svc.create(u["op"], replace(plan(clock.now(), threshold=threshold), calibration_profile="hq"))
    res = svc.authorise(u["officer"], d.id)
    # Measured at 30 subjects, scaled to this watch list's one.
    assert res.expected_false_alerts_per_1000 == pytest.approx(prof.expected_false_alerts_per_1000_faces / 30)
    assert "hq" in res.estimate_basis


def test_calibration_profile_of_another_model_is_refused(store: Store, clock: FakeClock, tmp_path: Path) -> None:
    prof = _calibrated(tmp_path, "other", model_id="another-model")
    u = users(store)
    add_entry(store, "A", 1)
    svc = DeploymentService(store, data_dir=tmp_path)
    d = svc.create(u["op"], replace(plan(clock.now(), threshold=prof.min_similarity), calibration_profile="other"))
    with pytest.raises(GovernanceError, match="is for model another-model"):
        svc.authorise(u["officer"], d.id)


def test_fpir_estimate_scales_with_size() -> None:
    small, _ = expected_false_alerts_per_1000(0.3, 10)
    large, _ = expected_false_alerts_per_1000(0.3, 1000)
    assert large > small * 50
    assert expected_false_alerts_per_1000(0.3, 0)[0] == 0.0


def test_shredded_key_bytes_are_gone_from_every_file(tmp_path: Path) -> None:
    """SQLite: secure_delete + WAL checkpoint leave no copy of the destroyed wrapped key on disk."""
    from overt.crypto.keys import MemoryKeyStore
    from overt.store import Database

    clock = FakeClock()
    store = Store(Database(f"sqlite:///{tmp_path / 'o.db'}"), MemoryKeyStore(), clock=clock).open()
    u = users(store)
    add_entry(store, "CASE-1", 1)
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(clock.now()))
    svc.authorise(u["officer"], d.id)
    with store.db.session() as s:
        snap = s.scalars(select(SnapshotRow)).one()
        key = s.get(DataKeyRow, snap.key_id)
        assert key is not None
        assert key.wrapped is not None
        wrapped = bytes(key.wrapped)
    assert any(wrapped in f.read_bytes() for f in tmp_path.iterdir())
    svc.close(u["officer"], d.id)
    store.db.dispose()
    for f in tmp_path.iterdir():
        assert wrapped not in f.read_bytes(), f.name


def test_entries_overdue_for_review_are_left_out(store: Store, clock: FakeClock) -> None:
    from datetime import date

    from overt.domain.watchlist import EntryDetails, EntryProvenance
    from tests.gov_helpers import template

    u = users(store)
    add_entry(store, "FRESH", 1)
    with store.transaction() as tx:
        tx.watchlist.add(
            EntryDetails("STALE", "r", "s"),
            EntryProvenance(Category.WANTED_BY_COURT, "b", date(2024, 1, 1), date(2026, 1, 1)),  # due today
            image=b"i",
            template=template(2),
            added_by="wm",
            now=clock.now(),
        )
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(clock.now()))
    res = svc.authorise(u["officer"], d.id)
    assert res.watchlist_size == 1
    assert res.overdue_excluded == 1


def test_threshold_changes_only_before_authorisation_and_is_audited(store: Store, clock: FakeClock) -> None:
    u = users(store)
    add_entry(store, "CASE-1", 1)
    svc = DeploymentService(store)
    d = svc.create(u["op"], plan(clock.now() + timedelta(hours=1)))
    changed = svc.change_threshold(u["op"], d.id, 0.52, "calibrated at FPIR 1/6000 for 1,000 subjects")
    assert changed.plan.min_similarity == pytest.approx(0.52)
    assert svc.show(d.id).deployment.plan.threshold_justification.startswith("calibrated")
    svc.authorise(u["officer"], d.id)
    with pytest.raises(GovernanceError, match="cannot change"):
        svc.change_threshold(u["op"], d.id, 0.3, "lower")
    assert svc.show(d.id).deployment.plan.min_similarity == pytest.approx(0.52)
    with store.transaction() as tx:
        entries = [e for e in tx.audit.entries() if e.action == "deployment.threshold_changed"]
        assert tx.audit.verify().ok
    assert len(entries) == 1
