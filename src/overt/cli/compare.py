"""``overt compare A B``: are these two photos of the same person?"""

from __future__ import annotations

from pathlib import Path

import typer

from overt.cli._common import JSON_OPTION, out_console, print_json, state
from overt.domain.templates import cosine_similarity
from overt.vision.engine import FacePick


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare_cmd(
        ctx: typer.Context,
        image_a: Path = typer.Argument(..., help="First image (one face)."),
        image_b: Path = typer.Argument(..., help="Second image (one face)."),
        pick: str = typer.Option(
            "one", "--pick", help="With several faces: 'one' refuses, 'largest' or 'centre' chooses."
        ),
        min_similarity: float | None = typer.Option(
            None, "--min-similarity", help="Threshold (strict side: below it is 'different'). Default: the model's."
        ),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Similarity of the faces in two images and the decision at the threshold."""
        if pick not in ("one", "largest", "centre"):
            raise typer.BadParameter("must be one, largest or centre", param_hint="--pick")
        p: FacePick = pick  # type: ignore[assignment]
        engine = state(ctx).engine()
        fa = engine.one_face(engine.read(image_a), pick=p, what=str(image_a))
        fb = engine.one_face(engine.read(image_b), pick=p, what=str(image_b))
        if fa.template is None or fb.template is None:  # one_face always embeds
            raise RuntimeError("engine returned a face without a template")
        sim = cosine_similarity(fa.template, fb.template)
        threshold = engine.min_similarity if min_similarity is None else min_similarity
        same = sim >= threshold
        result = {
            "image_a": str(image_a),
            "image_b": str(image_b),
            "similarity": round(sim, 4),
            "min_similarity": threshold,
            "same_person": same,
            "model": engine.embedder.model_id,
        }
        if as_json:
            print_json(result)
            return
        verdict = "[green]SAME PERSON[/green]" if same else "[yellow]DIFFERENT PEOPLE[/yellow]"
        out_console().print(
            f"similarity {sim:.3f} (threshold {threshold:.3f}, model {engine.embedder.model_id}): {verdict}"
        )
