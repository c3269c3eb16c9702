"""The audit log a page at a time, newest first, filtered; reading it is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest

from overt.audit.browse import AuditFilter, browse
from overt.domain.clock import FakeClock
from overt.errors import AuthError
from overt.store import Store
from tests.gov_helpers import users


def test_pages_filters_and_the_view_is_audited(store: Store, clock: FakeClock) -> None:
    u = users(store)
    t0 = clock.now()
    with store.transaction() as tx:
        for i in range(25):
            tx.audit.append("op" if i % 2 else "wm", "alert.viewed" if i % 3 else "watchlist.viewed", f"x:{i}", {})
            clock.advance(timedelta(minutes=1))
    aud = u["aud"]
    first = browse(aud, store, AuditFilter(action="alert."), limit=10)
    assert first.matching == 16
    assert len(first.entries) == 10
    assert [e.seq for e in first.entries] == sorted((e.seq for e in first.entries), reverse=True)
    second = browse(aud, store, AuditFilter(action="alert."), before_seq=first.next_before_seq, limit=10)
    assert len(second.entries) == 6
    assert second.next_before_seq is None
    assert not {e.seq for e in first.entries} & {e.seq for e in second.entries}
    by_op = browse(aud, store, AuditFilter(actor="op", since=t0 + timedelta(minutes=10)), limit=100)
    assert by_op.entries
    assert {e.actor for e in by_op.entries} == {"op"}
    exact = browse(aud, store, AuditFilter(action="watchlist.viewed"), limit=100)
    assert {e.action for e in exact.entries} == {"watchlist.viewed"}
    assert browse(aud, store, AuditFilter(action="audit.viewed"), limit=100).matching >= 4  # each read recorded
    with pytest.raises(AuthError):
        browse(u["op"], store, AuditFilter())
