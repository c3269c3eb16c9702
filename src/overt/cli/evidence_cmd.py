"""``overt evidence verify DIR``: check an exported evidence bundle offline."""

from __future__ import annotations

from pathlib import Path

import typer

from overt.alerts.evidence import verify_bundle
from overt.cli._common import JSON_OPTION, out_console, print_json
from overt.errors import CryptoError

app = typer.Typer(help="Signed evidence: verify exported alert bundles offline.", no_args_is_help=True)


@app.command("verify")
def verify_cmd(
    directory: Path = typer.Argument(..., help="The bundle directory written by `overt alert export ID --out DIR`."),
    fingerprint: str | None = typer.Option(
        None, "--fingerprint", help="The signing node's key fingerprint from its audit log (node_key.created)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Check the signature, both image hashes and the key fingerprint. Needs no database and no key."""
    check = verify_bundle(directory, expected_fingerprint=fingerprint)
    if as_json:
        print_json({"ok": check.ok, "reasons": list(check.reasons), "fingerprint": check.fingerprint})
    elif check.ok:
        out_console().print(f"evidence verified: signed by key {check.fingerprint}")
    if not check.ok:
        raise CryptoError("evidence does NOT verify: " + "; ".join(check.reasons))
