"""Governance benchmarks: encryption overhead, enrolment write, snapshot, purge, key rotation.

Ratios are against a baseline measured in the same run (plaintext AES-free work or the same
database write without encryption). Run: ``.venv/bin/python bench/governance.py [--n 1000]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from overt.crypto.envelope import Aad, new_key, open_sealed, seal
from overt.crypto.keys import MemoryKeyStore
from overt.domain.clock import FakeClock
from overt.domain.deployments import DeploymentPlan
from overt.domain.templates import Template
from overt.domain.watchlist import Category, EntryDetails, EntryProvenance
from overt.retention import purge
from overt.store import Database, Store
from overt.store.models import MetaRow
from overt.watchlist.snapshots import freeze_snapshot


def _time(fn: Callable[[], object], repeat: int = 5) -> float:
    best = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best.append(time.perf_counter() - t0)
    return statistics.median(best)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=500, help="entries/alerts per test")
    n = ap.parse_args().n
    rows: list[tuple[str, str]] = []
    key = new_key()
    tpl = np.random.default_rng(0).standard_normal(512).astype(np.float32).tobytes()
    img = os.urandom(60_000)
    aad = Aad("watchlist_entries", "1/template")
    for label, data in (("template 2 KiB", tpl), ("image 60 KB", img)):
        sealed = seal(key, data, aad)
        t_copy = _time(lambda d=data: [bytes(bytearray(d)) for _ in range(1000)]) / 1000  # type: ignore[misc]
        t_seal = _time(lambda d=data: [seal(key, d, aad) for _ in range(1000)]) / 1000  # type: ignore[misc]
        t_open = _time(lambda s=sealed: [open_sealed(key, s, aad) for _ in range(1000)]) / 1000  # type: ignore[misc]
        rows.append((f"AES-GCM seal {label}", f"{t_seal * 1e6:.1f} us ({t_seal / t_copy:.1f}x a memory copy)"))
        rows.append((f"AES-GCM open {label}", f"{t_open * 1e6:.1f} us; +{len(sealed) - len(data)} bytes"))

    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock(datetime(2026, 1, 1, tzinfo=UTC))
        store = Store(Database(f"sqlite:///{Path(tmp) / 'b.db'}"), MemoryKeyStore(), clock=clock).open()
        # baseline: the same bytes written to a plain table row, one transaction each
        t0 = time.perf_counter()
        for i in range(n):
            with store.db.session() as s:
                s.add(MetaRow(key=f"b{i}", value=(tpl + img[:1000]).hex()))
        t_plain = (time.perf_counter() - t0) / n
        t0 = time.perf_counter()
        for i in range(n):
            with store.transaction() as tx:
                tx.watchlist.add(
                    EntryDetails(f"REF-{i}", "reason", "source"),
                    EntryProvenance(Category.OTHER, "basis", date(2025, 1, 1), date(2027, 1, 1)),
                    image=img,
                    template=Template(np.frombuffer(tpl, np.float32), "m"),
                    added_by="wm",
                    now=clock.now(),
                )
        t_enc = (time.perf_counter() - t0) / n
        rows.append(
            (
                "store one watch-list entry (new key, 3 sealed blobs, blind index)",
                f"{t_enc * 1e3:.2f} ms vs {t_plain * 1e3:.2f} ms plain row ({t_enc / t_plain:.1f}x)",
            )
        )
        with store.transaction() as tx:
            d = tx.deployments.add(
                DeploymentPlan(
                    "p", "l", "x", clock.now(), clock.now() + timedelta(hours=1), "c", (Category.OTHER,), 0.4, "j"
                ),
                created_by="op",
                now=clock.now(),
            )
        t0 = time.perf_counter()
        with store.transaction() as tx:
            freeze_snapshot(tx, d.id)
        rows.append(
            (f"freeze snapshot of {n} entries (decrypt, look-alike check, seal)", f"{time.perf_counter() - t0:.3f} s")
        )
        with store.transaction() as tx:
            for _ in range(n):
                tx.alerts.add(
                    deployment_id=d.id,
                    camera_id="c",
                    entry_id=1,
                    similarity=0.5,
                    raised_at=clock.now(),
                    crop=img[:20000],
                )
        clock.advance(timedelta(hours=25))
        r = purge(store, "bench")
        rows.append((f"purge {len(r.alerts)} alerts (delete, shred key, audit each)", f"{r.seconds:.3f} s"))
        t0 = time.perf_counter()
        k = store.rotate_kek(new_key(), actor="bench")
        rows.append((f"keys rotate: re-wrap {k} data keys", f"{time.perf_counter() - t0:.3f} s"))
        t0 = time.perf_counter()
        with store.transaction() as tx:
            rep = tx.audit.verify()
        rows.append((f"audit verify {rep.entries} entries", f"{time.perf_counter() - t0:.3f} s"))
        store.db.dispose()
    width = max(len(a) for a, _ in rows)
    for a, b in rows:
        print(f"{a:<{width}}  {b}")


if __name__ == "__main__":
    main()
