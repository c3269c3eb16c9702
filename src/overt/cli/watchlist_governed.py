"""``overt watchlist add|remove|list|review``: the governed watch list.

``register_governed(watchlist_app)`` adds these commands to an existing ``watchlist`` typer
group (the pipeline's ``watchlist enrol`` lives in another module); ``app`` is a standalone
group for when that one is absent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from overt.cli._common import JSON_OPTION, out_console, print_json, state
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, USER_OPTION, acting_user, iso, open_store
from overt.domain.watchlist import EntryDetails, EntryProvenance, WatchlistEntry, parse_category, parse_date
from overt.errors import InputError
from overt.watchlist.entries import WatchlistService


def entry_dict(e: WatchlistEntry) -> dict[str, Any]:
    p = e.provenance
    return {
        "id": e.id,
        "subject_ref": e.details.subject_ref,
        "category": p.category.value,
        "reason": e.details.reason,
        "image_source": e.details.image_source,
        "legal_basis": p.legal_basis,
        "taken_on": p.taken_on.isoformat(),
        "review_on": p.review_on.isoformat(),
        "under_18": p.under_18,
        "added_by": e.added_by,
        "added_at": iso(e.added_at),
        "removed_at": iso(e.removed_at),
        "model_id": e.model_id,
    }


def _print_entries(entries: list[WatchlistEntry], as_json: bool) -> None:
    rows = [entry_dict(e) for e in entries]
    if as_json:
        print_json(rows)
        return
    t = Table("id", "reference", "category", "taken", "review", "under 18", "added by")
    for r in rows:
        t.add_row(
            str(r["id"]),
            str(r["subject_ref"]),
            str(r["category"]),
            str(r["taken_on"]),
            str(r["review_on"]),
            "yes" if r["under_18"] else "",
            str(r["added_by"]),
        )
    out_console().print(t)


def parse_face_mark(text: str | None) -> int | tuple[float, float, float, float] | None:
    """``--face``: an index (``2``) or a box (``10,20,110,140``)."""
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    try:
        if len(parts) == 1:
            return int(parts[0])
        if len(parts) == 4:
            x1, y1, x2, y2 = (float(p) for p in parts)
            return (x1, y1, x2, y2)
    except ValueError:
        pass
    raise InputError("--face must be a face index (as `overt faces` lists) or a box x1,y1,x2,y2")


def register_governed(watchlist_app: typer.Typer) -> None:
    @watchlist_app.command("add")
    def add_cmd(
        ctx: typer.Context,
        image: Path = typer.Argument(..., help="Image showing exactly one face (the subject)."),
        ref: str = typer.Option(..., "--ref", help="Subject reference (a case reference, not a name)."),
        category: str = typer.Option(
            ...,
            "--category",
            help="wanted_by_court, wanted_suspect, missing_person, vulnerable_person, victim_or_witness, other.",
        ),
        reason: str = typer.Option(..., "--reason", help="Why this person is on the watch list."),
        source: str = typer.Option(..., "--source", help="Where the image comes from."),
        legal_basis: str = typer.Option(..., "--legal-basis", help="Legal basis for holding the image."),
        taken: str = typer.Option(..., "--taken", help="Date the image was taken (YYYY-MM-DD)."),
        review: str = typer.Option(..., "--review", help="Review/expiry date (YYYY-MM-DD)."),
        under_18: bool = typer.Option(False, "--under-18", help="The subject is under 18."),
        under_18_reason: str | None = typer.Option(None, "--under-18-reason", help="Required with --under-18."),
        duplicate_min_similarity: float | None = typer.Option(
            None, "--duplicate-min-similarity", help="A possible duplicate above this (default: model's)."
        ),
        confirm_duplicate_of: int | None = typer.Option(
            None,
            "--confirm-duplicate-of",
            help="The face looks like this entry, and you confirm they are different people (audited).",
        ),
        face: str | None = typer.Option(
            None,
            "--face",
            help="Image with several faces: the subject's face, as its index in `overt faces` or x1,y1,x2,y2 px.",
        ),
        data_dir_: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        user: str | None = USER_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Enrol a subject: quality gate, provenance, encrypted image and template."""
        details = EntryDetails(ref, reason, source, under_18_reason)
        prov = EntryProvenance(
            parse_category(category),
            legal_basis,
            parse_date("--taken", taken),
            parse_date("--review", review),
            under_18,
        )
        store, _ = open_store(data_dir_, database_url)
        actor = acting_user(store, user)
        svc = WatchlistService(store, state(ctx).engine(), duplicate_min_similarity=duplicate_min_similarity)
        res = svc.add(
            actor, image, details, prov, mark=parse_face_mark(face), confirm_duplicate_of=confirm_duplicate_of
        )
        q = res.quality
        if as_json:
            print_json(
                {
                    "id": res.entry_id,
                    "quality": {"size_px": round(q.size_px, 1), "sharpness": round(q.sharpness, 1)},
                    "warnings": list(res.warnings),
                }
            )
            return
        c = out_console()
        c.print(f"watch-list entry {res.entry_id} added (face {q.size_px:.0f} px, sharpness {q.sharpness:.0f})")
        for w in res.warnings:
            c.print(f"[yellow]warning:[/yellow] {w}")

    @watchlist_app.command("remove")
    def remove_cmd(
        entry_id: int = typer.Argument(...),
        reason: str = typer.Option(..., "--reason", help="Why it is removed (kept out of the audit text)."),
        data_dir_: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        user: str | None = USER_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Remove an entry: its key is destroyed, image and template with it."""
        store, _ = open_store(data_dir_, database_url)
        WatchlistService(store, _NoEngine()).remove(acting_user(store, user), entry_id, reason)
        if as_json:
            print_json({"id": entry_id, "removed": True})
        else:
            out_console().print(f"watch-list entry {entry_id} removed; its image and template are destroyed")

    @watchlist_app.command("list")
    def list_cmd(
        include_removed: bool = typer.Option(False, "--include-removed"),
        data_dir_: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        user: str | None = USER_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """List entries (audited: who looked)."""
        store, _ = open_store(data_dir_, database_url)
        svc = WatchlistService(store, _NoEngine())
        _print_entries(svc.find(acting_user(store, user), include_removed=include_removed), as_json)

    @watchlist_app.command("review")
    def review_cmd(
        data_dir_: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
        user: str | None = USER_OPTION,
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Entries whose review date has come: re-justify or remove them."""
        store, _ = open_store(data_dir_, database_url)
        _print_entries(WatchlistService(store, _NoEngine()).due_for_review(acting_user(store, user)), as_json)


class _NoEngine:
    """Commands that do not enrol need no model."""

    min_similarity = 0.3

    def read(self, path: str | Path) -> Any:  # pragma: no cover - never called
        raise RuntimeError("no engine")

    def one_face(self, image: Any, **kwargs: Any) -> Any:  # pragma: no cover - never called
        raise RuntimeError("no engine")


app = typer.Typer(help="The governed watch list.", no_args_is_help=True)
register_governed(app)
