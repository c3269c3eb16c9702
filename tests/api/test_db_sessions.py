"""Sessions in the database (SQLite and PostgreSQL): what one API process creates, another sees;
timeouts, rotation and logout hold across processes; only the digest of the cookie id is stored."""

from __future__ import annotations

from sqlalchemy import select

from overt.api.db_sessions import DbSessionStore
from overt.domain.users import Role
from overt.store import Store
from overt.store.models import WebSessionRow
from overt.users.service import UserService


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_a_session_made_by_one_process_works_in_another(store: Store) -> None:
    svc = UserService(store)
    user = svc.add(svc.create_first_admin("chief", "a-long-password-0"), "ann", Role.OPERATOR, "a-long-password-1")
    one, two = DbSessionStore(store), DbSessionStore(store)
    anon_sid, anon = one.new()
    seen = two.get(anon_sid)
    assert seen is not None
    assert seen.csrf == anon.csrf
    assert seen.user is None
    sid, s = two.rotate(anon_sid, user)  # login on process 2 replaces the pre-login session
    assert one.get(anon_sid) is None
    got = one.get(sid)
    assert got is not None
    assert got.user is not None
    assert got.user.name == "ann"
    assert got.csrf == s.csrf != anon.csrf
    with store.db.session() as db:
        stored = list(db.scalars(select(WebSessionRow.id_hash)))
    assert sid not in stored  # only the digest
    one.drop(sid)  # logout on process 1 ends it on process 2
    assert two.get(sid) is None


def test_idle_and_absolute_timeouts(store: Store) -> None:
    t = Clock()
    sessions = DbSessionStore(store, idle_timeout_s=60, absolute_timeout_s=200, clock=t)
    sid, _ = sessions.new()
    t.t += 59
    assert sessions.get(sid) is not None
    t.t += 61
    assert sessions.get(sid) is None  # idle
    sid, _ = sessions.new()
    for _ in range(5):
        t.t += 50
        sessions.get(sid)
    assert sessions.get(sid) is None  # absolute
