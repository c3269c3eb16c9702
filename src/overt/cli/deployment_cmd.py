"""``overt deployment create|set-threshold|authorise|publish-notice|late-start|start|stop|close|policy|...``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from overt.cli._common import JSON_OPTION, err_console, out_console, print_json
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, USER_OPTION, acting_user, iso, open_store
from overt.deployments import DeploymentService, DeploymentView
from overt.deployments.policy import PolicyService
from overt.deployments.thresholds import live_threshold
from overt.domain.deployments import Deployment, DeploymentPlan, DeploymentState
from overt.domain.watchlist import parse_category, parse_datetime
from overt.errors import InputError
from overt.transparency.numbers import rate_text

app = typer.Typer(help="Deployments: authorised, bounded uses of live facial recognition.", no_args_is_help=True)


def deployment_dict(d: Deployment, view: DeploymentView | None = None) -> dict[str, Any]:
    p = d.plan
    out: dict[str, Any] = {
        "id": d.id,
        "state": d.state.value,
        "purpose": p.purpose,
        "legal_basis": p.legal_basis,
        "place": p.place,
        "geofence": [list(v) for v in p.geofence] if p.geofence else None,
        "planned_start": iso(p.planned_start),
        "planned_end": iso(p.planned_end),
        "criteria": p.criteria,
        "categories": [c.value for c in p.categories],
        "min_similarity": p.min_similarity,
        "threshold_justification": p.threshold_justification,
        "calibration_profile": p.calibration_profile,
        "expected_false_alerts_per_1000": p.expected_false_alerts_per_1000,
        "notice_published_at": iso(d.notice_published_at),
        "late_start_reason": d.late_start_reason,
        "created_by": d.created_by,
        "created_at": iso(d.created_at),
        "authorised_by": d.authorised_by,
        "authorised_at": iso(d.authorised_at),
        "started_at": iso(d.started_at),
        "stopped_at": iso(d.stopped_at),
        "stop_reason": d.stop_reason,
        "closed_at": iso(d.closed_at),
    }
    if view is not None:
        s = view.snapshot
        out["snapshot"] = (
            None
            if s is None
            else {"entries": s.entry_count, "created_at": iso(s.created_at), "destroyed_at": iso(s.destroyed_at)}
        )
    return out


def _geofence(text: str | None) -> tuple[tuple[float, float], ...] | None:
    if not text:
        return None
    try:
        pts = tuple((float(a), float(b)) for a, b in (pair.split(",") for pair in text.split(";") if pair.strip()))
    except ValueError:
        raise InputError("--geofence must be 'lat,lon;lat,lon;lat,lon'") from None
    return pts


def _show(d: Deployment, as_json: bool, view: DeploymentView | None = None, msg: str = "") -> None:
    if as_json:
        print_json(deployment_dict(d, view))
    else:
        out_console().print(msg or f"deployment {d.id}: {d.state.value}")


@app.command("create")
def create_cmd(
    purpose: str = typer.Option(..., "--purpose"),
    legal_basis: str = typer.Option(..., "--legal-basis"),
    place: str = typer.Option(..., "--place", help="Where (text)."),
    start: str = typer.Option(..., "--start", help="Planned start, ISO 8601 with timezone."),
    end: str = typer.Option(..., "--end", help="Planned end, ISO 8601 with timezone."),
    criteria: str = typer.Option(..., "--criteria", help="Which people may be on the watch list, and why."),
    category: list[str] = typer.Option(..., "--category", help="Watch-list categories (repeat)."),
    min_similarity: float | None = typer.Option(
        None,
        "--min-similarity",
        help="Alert threshold (strict below); default: the --profile's, else the model's documented live threshold.",
    ),
    justification: str | None = typer.Option(None, "--justification", help="Why this threshold."),
    profile: str | None = typer.Option(None, "--profile", help="Calibration profile in <data-dir>/profiles."),
    geofence: str | None = typer.Option(None, "--geofence", help="Optional polygon 'lat,lon;lat,lon;...'."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a draft deployment (someone else must authorise it)."""
    store, d_dir = open_store(data_dir_, database_url)
    svc = DeploymentService(store, data_dir=d_dir)
    threshold, justification = svc.threshold(profile, min_similarity, justification)
    if min_similarity is None and profile is None:  # one threshold story, said out loud
        err_console().print(
            f"No --min-similarity or --profile: using {threshold:.2f}, {live_threshold().justification}."
        )
    plan = DeploymentPlan(
        purpose=purpose,
        legal_basis=legal_basis,
        place=place,
        planned_start=parse_datetime("--start", start),
        planned_end=parse_datetime("--end", end),
        criteria=criteria,
        categories=tuple(parse_category(c) for c in category),
        min_similarity=threshold,
        threshold_justification=justification,
        geofence=_geofence(geofence),
        calibration_profile=profile,
    )
    d = svc.create(acting_user(store, user), plan)
    _show(d, as_json, msg=f"deployment {d.id} created (draft); it needs authorising by another officer")


@app.command("authorise")
def authorise_cmd(
    deployment_id: int = typer.Argument(...),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Authorise a draft (not its creator); freezes and encrypts its watch-list snapshot."""
    store, d_dir = open_store(data_dir_, database_url)
    res = DeploymentService(store, data_dir=d_dir).authorise(acting_user(store, user), deployment_id)
    warnings = [
        f"entries {w.entry_a} and {w.entry_b} cannot be told apart at the threshold (similarity {w.similarity:.2f})"
        for w in res.look_alikes
    ]
    if res.overdue_excluded:
        warnings.append(
            f"{res.overdue_excluded} entries left out: their review date has passed (overt watchlist review)"
        )
    if as_json:
        print_json(
            {
                **deployment_dict(res.deployment),
                "watchlist_size": res.watchlist_size,
                "expected_false_alerts_per_1000": round(res.expected_false_alerts_per_1000, 4),
                "estimate_basis": res.estimate_basis,
                "warnings": warnings,
            }
        )
        return
    c = out_console()
    c.print(
        f"deployment {deployment_id} authorised by {res.deployment.authorised_by}: watch list of "
        f"{res.watchlist_size} subjects, expected false alerts per 1,000 faces "
        f"{rate_text(res.expected_false_alerts_per_1000)} ({res.estimate_basis})"
    )
    for w in warnings:
        c.print(f"[yellow]warning:[/yellow] {w}")


def _simple(name: str, doc: str) -> None:
    def cmd(
        deployment_id: int = typer.Argument(...),
        reason: str = typer.Option("stopped by operator", "--reason", help="Why (stop only)."),
        data_dir_: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        user: str | None = USER_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        store, d_dir = open_store(data_dir_, database_url)
        svc = DeploymentService(store, data_dir=d_dir)
        actor = acting_user(store, user)
        if name == "start":
            d = svc.start(actor, deployment_id)
        elif name == "stop":
            d = svc.stop(actor, deployment_id, reason)
        elif name == "close":
            d = svc.close(actor, deployment_id)
        else:
            d = svc.publish_notice(actor, deployment_id)
        extra = " (watch-list snapshot key destroyed)" if name == "close" else ""
        _show(d, as_json, msg=f"deployment {d.id}: {d.state.value}{extra}")

    cmd.__doc__ = doc
    app.command(name)(cmd)


_simple("publish-notice", "Publish an authorised deployment's notice (public site, upcoming; audited).")


@app.command("late-start")
def late_start_cmd(
    deployment_id: int = typer.Argument(...),
    reason: str = typer.Option(..., "--reason", help="Why it must start before the notice lead time (public)."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Authorising officer: allow an urgent start before the notice lead time (shown publicly)."""
    store, d_dir = open_store(data_dir_, database_url)
    d = DeploymentService(store, data_dir=d_dir).approve_late_start(acting_user(store, user), deployment_id, reason)
    _show(d, as_json, msg=f"deployment {d.id}: urgent late start approved (published late, reason: {reason})")


@app.command("signage")
def signage_cmd(
    deployment_id: int = typer.Argument(...),
    out: Path = typer.Option(..., "--out", help="PDF to write (an A3 page and an A4 page)."),
    base_url: str | None = typer.Option(None, "--base-url", help="Public site address for the QR code."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """The sign to put up at the place: notice, times, purpose, contact, QR code to the public page."""
    from overt.transparency.public import PublicSite
    from overt.transparency.signage import signage_pdf

    store, d_dir = open_store(data_dir_, database_url)
    acting_user(store, user)  # staff only (the sign itself holds nothing that is not public)
    site = PublicSite.for_data_dir(store, d_dir)
    out.write_bytes(signage_pdf(site, deployment_id, base_url=base_url))
    out_console().print(f"sign for deployment {deployment_id} written to {out}")


_simple("start", "Start an authorised deployment inside its window.")
_simple("stop", "Stop an active deployment (it may start again inside its window).")
_simple("close", "Close a deployment for good; destroys its watch-list snapshot key.")


@app.command("set-threshold")
def set_threshold_cmd(
    deployment_id: int = typer.Argument(...),
    min_similarity: float = typer.Option(
        ..., "--min-similarity", help="New alert threshold (strict below: lower scores never alert)."
    ),
    justification: str = typer.Option(..., "--justification", help="Why this threshold (e.g. the calibration)."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change a draft deployment's alert threshold (audited; impossible once authorised)."""
    store, d_dir = open_store(data_dir_, database_url)
    actor = acting_user(store, user)
    d = DeploymentService(store, data_dir=d_dir).change_threshold(actor, deployment_id, min_similarity, justification)
    _show(d, as_json, msg=f"deployment {d.id}: threshold {d.plan.min_similarity}")


@app.command("show")
def show_cmd(
    deployment_id: int = typer.Argument(...),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one deployment and its snapshot (no authentication: nothing personal is shown)."""
    store, d_dir = open_store(data_dir_, database_url)
    view = DeploymentService(store, data_dir=d_dir).show(deployment_id)
    doc = deployment_dict(view.deployment, view)
    if as_json:
        print_json(doc)
        return
    t = Table("field", "value", show_header=False)
    for k, v in doc.items():
        t.add_row(k, str(v))
    out_console().print(t)


@app.command("list")
def list_cmd(
    state: str | None = typer.Option(None, "--state", help="draft, authorised, active or closed."),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List deployments."""
    try:
        st = DeploymentState(state) if state else None
    except ValueError:
        raise InputError(f"unknown state {state!r}") from None
    store, d_dir = open_store(data_dir_, database_url)
    views = DeploymentService(store, data_dir=d_dir).find(st)
    if as_json:
        print_json([deployment_dict(v.deployment, v) for v in views])
        return
    t = Table("id", "state", "place", "start", "end", "threshold", "snapshot")
    for v in views:
        d = v.deployment
        snap = "-" if v.snapshot is None else ("destroyed" if v.snapshot.destroyed else f"{v.snapshot.entry_count}")
        t.add_row(
            str(d.id),
            d.state.value,
            d.plan.place,
            str(iso(d.plan.planned_start)),
            str(iso(d.plan.planned_end)),
            f"{d.plan.min_similarity:.2f}",
            snap,
        )
    out_console().print(t)


@app.command("tick")
def tick_cmd(
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Apply the rules of time now: stop deployments past their end, destroy due snapshot keys."""
    store, d_dir = open_store(data_dir_, database_url)
    r = DeploymentService(store, data_dir=d_dir).tick()
    if as_json:
        print_json({"stopped": list(r.stopped), "snapshots_destroyed": list(r.shredded)})
    else:
        out_console().print(f"stopped {list(r.stopped)}; snapshots destroyed {list(r.shredded)}")


def _policy_doc(svc: PolicyService) -> dict[str, Any]:
    p, floor = svc.get(), svc.floor()
    return {
        "max_window_h": p.max_window_h,
        "min_threshold": floor.value if p.min_threshold is None else p.min_threshold,
        "min_threshold_basis": floor.basis if p.min_threshold is None else "set by an admin",
    }


@app.command("policy")
def policy_cmd(
    data_dir_: Path | None = DATA_DIR_OPTION, database_url: str | None = DB_URL_OPTION, as_json: bool = JSON_OPTION
) -> None:
    """Show the longest window and the lowest threshold this data directory allows."""
    store, d_dir = open_store(data_dir_, database_url)
    doc = _policy_doc(PolicyService(store, data_dir=d_dir))
    if as_json:
        print_json(doc)
    else:
        out_console().print(
            f"longest window {doc['max_window_h']:g} h; lowest threshold {doc['min_threshold']:g} "
            f"({doc['min_threshold_basis']})"
        )


@app.command("set-policy")
def set_policy_cmd(
    reason: str = typer.Option(..., "--reason", help="Why the policy changes (recorded in the audit log)."),
    max_window_h: float | None = typer.Option(None, "--max-window-h", help="Longest deployment window, hours."),
    min_threshold: float | None = typer.Option(
        None, "--min-threshold", help="Lowest threshold an officer may authorise."
    ),
    model_default: bool = typer.Option(
        False, "--model-default-threshold", help="Back to the model's calibrated/registry threshold."
    ),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Change the deployment policy (admins only; audited as deployment.policy_changed)."""
    store, d_dir = open_store(data_dir_, database_url)
    svc = PolicyService(store, data_dir=d_dir)
    svc.change(
        acting_user(store, user),
        reason=reason,
        max_window_h=max_window_h,
        min_threshold=min_threshold,
        model_default_threshold=model_default,
    )
    doc = _policy_doc(svc)
    if as_json:
        print_json(doc)
    else:
        out_console().print(
            f"policy changed: longest window {doc['max_window_h']:g} h, lowest threshold "
            f"{doc['min_threshold']:g} ({doc['min_threshold_basis']})"
        )
