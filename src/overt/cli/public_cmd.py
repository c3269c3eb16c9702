"""``overt publish --out DIR`` (the public site as static files) and ``overt public set`` (its contact details)."""

from __future__ import annotations

from pathlib import Path

import typer

from overt.cli._common import out_console
from overt.cli._gov import DATA_DIR_OPTION, DB_URL_OPTION, USER_OPTION, acting_user, open_store
from overt.transparency.public import PublicSite, set_public_info
from overt.transparency.site import SiteRenderer

app = typer.Typer(help="The public site's settings: contact details, complaints, assessments.", no_args_is_help=True)


@app.command("set")
def set_cmd(
    force_name: str | None = typer.Option(None, "--force-name", help="Who runs Overt (shown on every page)."),
    contact_email: str | None = typer.Option(None, "--contact-email"),
    contact_phone: str | None = typer.Option(None, "--contact-phone"),
    contact_address: str | None = typer.Option(None, "--contact-address"),
    complaints_url: str | None = typer.Option(None, "--complaints-url"),
    equality_assessment_url: str | None = typer.Option(None, "--equality-assessment-url"),
    dpia_url: str | None = typer.Option(None, "--dpia-url", help="Data protection impact assessment."),
    public_base_url: str | None = typer.Option(
        None, "--public-base-url", help="Address of the public site (QR codes)."
    ),
    data_dir_: Path | None = DATA_DIR_OPTION,
    database_url: str | None = DB_URL_OPTION,
    user: str | None = USER_OPTION,
) -> None:
    """Admin: set the public site's contact and assessment fields (audited)."""
    store, d_dir = open_store(data_dir_, database_url)
    info = set_public_info(
        store,
        d_dir,
        acting_user(store, user),
        force_name=force_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        contact_address=contact_address,
        complaints_url=complaints_url,
        equality_assessment_url=equality_assessment_url,
        dpia_url=dpia_url,
        public_base_url=public_base_url,
    )
    out_console().print(f"public site settings saved for {info.force_name}")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="public")

    @root.command("publish")
    def publish_cmd(
        out: Path = typer.Option(..., "--out", help="Directory to write the public site into."),
        data_dir_: Path | None = DATA_DIR_OPTION,
        database_url: str | None = DB_URL_OPTION,
    ) -> None:
        """Write the public site (pages, JSON, CSV, Atom feed) as static files for a force's own website."""
        store, d_dir = open_store(data_dir_, database_url)
        files = SiteRenderer(PublicSite.for_data_dir(store, d_dir)).render_all()
        for rel, page in files.items():
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(page.body)
        out_console().print(f"{len(files)} files written to {out}")
