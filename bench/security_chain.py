"""Costs of the security-chain safeguards, as ratios against a baseline in the same run.

* KEK check: a transaction storing an alert with a sealed crop re-reads the KEK fingerprint the
  database expects (so a rotation in another process is noticed); baseline: the same
  transaction with the check already done.
* Device-alert checks: ``check_claim`` (snapshot decrypt + membership, entry, threshold,
  window, JPEG decode) on a snapshot of ``--n`` entries; baseline: the transaction that only
  reads the deployment.
* ``audit verify`` with MACs and the governance cross-check; baseline: the hash chain alone.

Run: ``.venv/bin/python bench/security_chain.py [--n 1000]`` (about 30 s on 2 cores).
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
from PIL import Image

from overt.alerts.ingest_checks import DeviceAlertClaim, check_claim
from overt.audit.crosscheck import verify_all
from overt.audit.log import AuditLog
from overt.crypto.keys import MemoryKeyStore
from overt.domain.clock import FakeClock
from overt.domain.deployments import DeploymentPlan, DeploymentState
from overt.domain.templates import Template
from overt.domain.watchlist import Category, EntryDetails, EntryProvenance
from overt.store import Database, Store
from overt.watchlist.snapshots import freeze_snapshot


def _time(fn: Callable[[], object], repeat: int = 5) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000, help="watch-list entries / audit entries")
    n = ap.parse_args().n
    rows: list[tuple[str, str]] = []
    buf = io.BytesIO()
    Image.new("RGB", (112, 112), (90, 60, 30)).save(buf, "JPEG")
    crop = buf.getvalue()
    with tempfile.TemporaryDirectory() as tmp:
        clock = FakeClock(datetime(2026, 1, 1, 9, tzinfo=UTC))
        store = Store(Database(f"sqlite:///{Path(tmp) / 'b.db'}"), MemoryKeyStore(), clock=clock).open()
        rng = np.random.default_rng(0)
        with store.transaction() as tx:
            for i in range(n):
                tx.watchlist.add(
                    EntryDetails(f"REF-{i}", "r", "s"),
                    EntryProvenance(Category.WANTED_BY_COURT, "l", date(2025, 1, 1), date(2027, 1, 1)),
                    image=b"\xff\xd8x",
                    template=Template(rng.standard_normal(512).astype(np.float32), "arcface_w600k_mbf"),
                    added_by="wm",
                    now=clock.now(),
                )
                tx.audit.append("wm", "watchlist.entry_added", f"entry:{i + 1}", {})
            start = clock.now() - timedelta(minutes=5)
            plan = DeploymentPlan(
                "p", "l", "x", start, start + timedelta(hours=6), "c", (Category.WANTED_BY_COURT,), 0.45, "j"
            )
            d = tx.deployments.add(plan, created_by="op", now=clock.now())
            tx.audit.append("op", "deployment.created", f"deployment:{d.id}", {"min_similarity": 0.45})
            d = tx.deployments.save(d.authorise("officer", clock.now()))
            tx.audit.append("officer", "deployment.authorised", f"deployment:{d.id}", {})
            freeze_snapshot(tx, d.id)
            d = d.publish_notice("op", clock.now())
            tx.deployments.save(d.start(clock.now(), notice_lead_time=timedelta(0)))
            tx.audit.append("op", "deployment.started", f"deployment:{d.id}", {})
            assert tx.deployments.get(d.id).state is DeploymentState.ACTIVE

        def store_alert(checked: bool) -> None:
            for _ in range(100):
                with store.transaction() as tx:
                    if checked:
                        tx.vault._checked = True
                    tx.alerts.add(
                        deployment_id=d.id, camera_id="c", entry_id=1, similarity=0.6, raised_at=clock.now(), crop=crop
                    )

        base = _time(lambda: store_alert(True)) / 100
        with_check = _time(lambda: store_alert(False)) / 100
        rows.append(
            ("store an alert + sealed crop, KEK check", f"{with_check * 1e3:.2f} ms vs {base * 1e3:.2f} ms "
             f"({with_check / base:.2f}x)")
        )  # fmt: skip
        claim = DeviceAlertClaim(d.id, 1, 0.6, clock.now(), crop, None)

        def read_only() -> None:
            for _ in range(20):
                with store.transaction() as tx:
                    tx.deployments.get(d.id)

        def checks() -> None:
            for _ in range(20):
                with store.transaction() as tx:
                    check_claim(tx, claim, clock.now())

        base = _time(read_only) / 20
        cost = _time(checks) / 20
        rows.append(
            (
                f"device-alert checks, snapshot of {n}",
                f"{cost * 1e3:.1f} ms vs {base * 1e3:.2f} ms ({cost / base:.0f}x)",
            )
        )

        with store.db.session() as s:
            log = AuditLog(s, clock)
            entries = log.count()
            chain = _time(lambda: log.verify(), 3)
            full = _time(lambda: verify_all(s, log), 3)
        rows.append(
            (f"audit verify + MACs + cross-check, {entries} entries", f"{full * 1e3:.0f} ms (chain with MACs alone "
             f"{chain * 1e3:.0f} ms, {full / chain:.2f}x)")
        )  # fmt: skip
        store.db.dispose()
    for label, value in rows:
        print(f"| {label} | {value} |")


if __name__ == "__main__":
    main()
