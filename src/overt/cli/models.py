"""``overt models``: the registered models, their licence and whether each file verifies."""

from __future__ import annotations

import typer
from rich.table import Table

from overt.cli._common import JSON_OPTION, out_console, print_json, state
from overt.errors import ModelError
from overt.vision.models import ModelRegistry


def register(app: typer.Typer) -> None:
    @app.command("models")
    def models_cmd(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
        """List models with licence, published accuracy and sha256 verification."""
        registry = ModelRegistry(state(ctx).config.engine.models)
        rows = []
        for spec in registry:
            try:
                path = str(registry.verified_path(spec.id))
                status, problem = "verified", ""
            except ModelError as exc:
                path, status, problem = "", "FAILED", str(exc)
            rows.append(
                {
                    "id": spec.id,
                    "kind": spec.kind,
                    "format": spec.format,
                    "status": status,
                    "problem": problem,
                    "path": path,
                    "sha256": spec.sha256,
                    "input_size_px": spec.input_size_px,
                    "colour_order": spec.colour_order,
                    "embedding_size": spec.embedding_size,
                    "metric": spec.metric,
                    "default_threshold": spec.default_threshold,
                    "licence": spec.licence,
                    "published_accuracy": spec.published_accuracy,
                }
            )
        if as_json:
            print_json(rows)
            return
        t = Table(title="Registered models")
        for col in ("id", "kind", "status", "threshold", "licence"):
            t.add_column(col)
        for r in rows:
            status = "[green]verified[/green]" if r["status"] == "verified" else f"[red]{r['problem']}[/red]"
            th = "" if r["default_threshold"] is None else f"{r['default_threshold']:.2f}"
            t.add_row(str(r["id"]), str(r["kind"]), status, th, str(r["licence"]))
        out_console().print(t)
