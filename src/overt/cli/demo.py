"""``overt demo``: the engine on images that ship inside installed packages."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import cv2
import typer

from overt.cli._common import JSON_OPTION, out_console, print_json, state
from overt.domain.templates import cosine_similarity
from overt.samples import SAMPLE_IMAGES, sample_image


def register(app: typer.Typer) -> None:
    @app.command("samples")
    def samples_cmd(
        dest: Path = typer.Argument(Path("."), help="Folder to copy the sample photos into."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Copy the sample photos that ship with the model package (for trying the commands)."""
        dest.mkdir(parents=True, exist_ok=True)
        written = []
        for name in SAMPLE_IMAGES:
            target = dest / f"{name}.jpg"
            shutil.copyfile(sample_image(name), target)
            written.append(str(target))
        if as_json:
            print_json(written)
        else:
            out_console().print("\n".join(written))

    @app.command("demo")
    def demo_cmd(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
        """Detect faces in sample photos and compare a face with itself and with others."""
        engine = state(ctx).engine()
        con = out_console()
        report: dict[str, object] = {"model": engine.embedder.model_id, "min_similarity": engine.min_similarity}
        t0 = time.perf_counter()
        counts = {}
        for name in ("yaoming", "gdp", "players"):
            img = engine.read(sample_image(name))
            counts[name] = len(engine.faces(img, embed=False))
        report["faces_found"] = counts
        probe_img = engine.read(sample_image("yaoming"))
        probe = engine.one_face(probe_img, what="yaoming.jpg")
        # A second, different photo of the same face: mirrored, rescaled and re-compressed.
        with tempfile.TemporaryDirectory() as tmp:
            altered = cv2.resize(cv2.flip(probe_img, 1), None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)
            alt_path = Path(tmp) / "altered.jpg"
            cv2.imwrite(str(alt_path), altered, [cv2.IMWRITE_JPEG_QUALITY, 60])
            same = engine.one_face(engine.read(alt_path), what="altered copy")
        others = engine.faces(engine.read(sample_image("players")), embed=True)
        if probe.template is None or same.template is None:
            raise RuntimeError("engine returned a face without a template")
        sim_same = cosine_similarity(probe.template, same.template)
        sims_other = [cosine_similarity(probe.template, f.template) for f in others if f.template is not None]
        best_other = max(sims_other) if sims_other else float("nan")
        report["same_person_similarity"] = round(sim_same, 4)
        report["best_team_photo_similarity"] = round(best_other, 4)
        report["team_photo_faces"] = len(sims_other)
        report["team_photo_matches"] = sum(s >= engine.min_similarity for s in sims_other)
        report["seconds"] = round(time.perf_counter() - t0, 2)
        if as_json:
            print_json(report)
            return
        con.print("[bold]Overt demo[/bold]: recognition core on photos shipped with the model package")
        for name, n in counts.items():
            con.print(f"  {name}.jpg: {n} face(s) detected")
        th = engine.min_similarity
        con.print(f"  threshold (min_similarity) of {engine.embedder.model_id}: {th:.2f}")
        verdict = "[green]same person[/green]" if sim_same >= th else "[red]missed[/red]"
        con.print(f"  Yao Ming vs a mirrored, shrunk, re-compressed copy: similarity {sim_same:.3f} -> {verdict}")
        ranked = sorted(sims_other, reverse=True)
        con.print(
            f"  Searching the team photo ({len(ranked)} faces) for him: "
            f"{report['team_photo_matches']} face(s) at or over the threshold "
            f"(best {best_other:.3f}; next best {ranked[1] if len(ranked) > 1 else float('nan'):.3f})"
        )
        con.print(f"  done in {report['seconds']} s. Nothing was written: the faces lived only in memory.")
