"""``overt alert list|adjudicate|retain|export``: the human side of alerts, every step audited."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.table import Table

from overt.alerts.export import export_bundle
from overt.alerts.followups import AlertFollowups
from overt.alerts.review import AlertService, AlertView
from overt.cli._common import JSON_OPTION, out_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, USER_OPTION, acting_user, iso, open_store
from overt.domain.watchlist import parse_datetime
from overt.errors import InputError
from overt.retention import retain_alert
from overt.store.repositories import StoredAlert

app = typer.Typer(help="Alerts: review, adjudicate, retain as evidence, export.", no_args_is_help=True)


def _common(a: StoredAlert | AlertView) -> dict[str, object]:
    return {
        "id": a.id,
        "deployment_id": a.deployment_id,
        "camera_id": a.camera_id,
        "entry_id": a.entry_id,
        "similarity": round(a.similarity, 4),
        "track_id": a.track_id,
        "raised_at": iso(a.raised_at),
        "has_image": a.has_crop,
        "adjudication": a.adjudication,
        "engaged": a.engaged,
        "outcome": a.outcome,
    }


def alert_dict(a: StoredAlert) -> dict[str, object]:
    return {**_common(a), "retained_until": iso(a.retained_until)}


def view_dict(a: AlertView) -> dict[str, object]:
    pending = None if a.pending is None else {"verdict": a.pending.verdict, "proposed_by": a.pending.proposed_by}
    return {**_common(a), "pending": pending}


@app.command("list")
def list_cmd(
    deployment: int | None = typer.Option(None, "--deployment", help="Only this deployment."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List stored alerts (ids and scores; no images)."""
    store, _ = open_store(data_dir_, database_url)
    alerts = AlertService(store).find(acting_user(store, user), deployment)
    rows = [alert_dict(a) for a in alerts]
    if as_json:
        print_json(rows)
        return
    t = Table("id", "deployment", "camera", "entry", "similarity", "raised", "adjudication")
    for r in rows:
        t.add_row(*(str(r[k]) for k in ("id", "deployment_id", "camera_id", "entry_id", "similarity", "raised_at")),
                  str(r["adjudication"] or "-"))  # fmt: skip
    out_console().print(t)


@app.command("adjudicate")
def adjudicate_cmd(
    alert_id: int = typer.Argument(...),
    verdict: str = typer.Option(..., "--verdict", help="true (the right person) or false (someone else)."),
    engaged: bool | None = typer.Option(
        None, "--engaged/--not-engaged", help="Officers engaged the person (default: what --outcome says)."
    ),
    outcome: str | None = typer.Option(None, "--outcome", help="Short outcome code, e.g. arrest, no_action."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    second_person: bool = typer.Option(
        False,
        "--second-person",
        help="A true match counts only once a second operator confirms it (also on when the data directory's"
        " policy says so; a pending proposal always binds).",
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record the operator's decision on an alert (feeds the transparency report)."""
    v = {"true": "true_match", "false": "false_match"}.get(verdict.strip().lower())
    if v is None:
        raise InputError("--verdict must be true or false")
    if outcome is not None and (len(outcome) > 64 or not outcome.replace("_", "").replace("-", "").isalnum()):
        raise InputError("--outcome must be a short code (letters, digits, '_' or '-')")
    store, _ = open_store(data_dir_, database_url)
    service = AlertService(store, second_person=second_person)
    a, counted = service.adjudicate(acting_user(store, user), alert_id, v, outcome, engaged=engaged)
    if as_json:
        print_json({**view_dict(a), "counted": counted})
    elif counted:
        out_console().print(f"alert {alert_id}: {a.adjudication}")
    elif a.pending is not None:
        out_console().print(f"alert {alert_id}: {a.pending.verdict} proposed; a second person must confirm it")
    else:
        out_console().print(f"alert {alert_id}: verdict disputed; the alert is open again")


@app.command("undo")
def undo_cmd(
    alert_id: int = typer.Argument(...),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Undo your own verdict (or proposal) within the undo window; the alert is open again (audited)."""
    store, _ = open_store(data_dir_, database_url)
    ev = AlertFollowups(store).undo(acting_user(store, user), alert_id)
    if as_json:
        print_json({"id": alert_id, "undone": ev.value, "at": iso(ev.at)})
    else:
        out_console().print(f"alert {alert_id}: {ev.value} undone; the alert is open again")


@app.command("retain")
def retain_cmd(
    alert_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why it is kept as evidence."),
    until: str = typer.Option(..., "--until", help="Keep until (ISO 8601 with timezone)."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Hold an alert and its image as evidence beyond the retention period."""
    store, _ = open_store(data_dir_, database_url)
    when = parse_datetime("--until", until)
    retain_alert(store, acting_user(store, user), alert_id, reason=reason, until=when)
    if as_json:
        print_json({"id": alert_id, "retained_until": when.isoformat()})
    else:
        out_console().print(f"alert {alert_id} retained until {when.isoformat()}")


@app.command("export")
def export_cmd(
    alert_id: int = typer.Argument(...),
    out: Path = typer.Option(
        ...,
        "--out",
        help="A new (or empty) directory: the signed evidence bundle (images, record.json, signature, the node's "
        "public key and fingerprint; check it with `overt evidence verify DIR`). A .jpg name: the probe image only.",
    ),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Export an alert as a signed evidence bundle (decrypted; audited as alert.exported)."""
    store, _ = open_store(data_dir_, database_url)
    actor = acting_user(store, user)
    service = AlertService(store)
    data = service.crop(actor, alert_id)
    if out.suffix.lower() in (".jpg", ".jpeg"):
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        service.exported(actor, alert_id, len(data))
        if as_json:
            print_json({"id": alert_id, "out": str(out), "bytes": len(data)})
        else:
            out_console().print(f"alert {alert_id}: image written to {out}")
        return
    bundle = export_bundle(store, actor, alert_id, out, crop_jpeg=data)
    if as_json:
        print_json({"id": alert_id, "out": str(out), "fingerprint": bundle.fingerprint, "verified": bundle.verified})
    else:
        out_console().print(
            f"alert {alert_id}: evidence bundle written to {out} (signed by key {bundle.fingerprint}; "
            "compare it with the node_key.created entry of the signing node's audit log)"
        )
