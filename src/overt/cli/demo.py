"""``overt demo``: the live pipeline on a clip made from photos that ship inside installed packages.

A short clip is built in a temporary folder: Yao Ming (yaoming.jpg) walks across and comes
closer, among bystanders cut out of the team photo (players.jpg, without him). A different
"photo" of him (mirrored, shrunk, re-compressed) is enrolled as the only watch-list subject.
The pipeline tracks every face, embeds a few per track, alerts once, and keeps nothing of the
bystanders. Everything is deleted at the end (unless ``--annotate`` asks for the redacted video).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import typer

from overt.alerts import JsonlSink, MemorySink, alert_to_json
from overt.cli._common import JSON_OPTION, out_console, print_json, state
from overt.pipeline.compose import compose_pipeline
from overt.pipeline.synthetic import SyntheticClip, face_patches
from overt.samples import SAMPLE_IMAGES, sample_image
from overt.watchlist import enrol_folder

SUBJECT = "YM-0001"


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
    def demo_cmd(
        ctx: typer.Context,
        annotate: Path | None = typer.Option(
            None, "--annotate", help="Keep the redacted, annotated video of the demo clip here (.mp4)."
        ),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Run the live pipeline on a synthetic clip: one enrolled face among bystanders."""
        st = state(ctx)
        engine = st.engine()
        con = out_console()
        t0 = time.perf_counter()
        yao = engine.read(sample_image("yaoming"))
        team = engine.read(sample_image("players"))
        probe = engine.one_face(yao, what="yaoming.jpg")
        team_faces = engine.faces(team, embed=True)
        # Bystanders: the team without Yao Ming (he is in that photo too).
        yao_template = probe.template
        if yao_template is None:  # pragma: no cover - one_face always embeds
            raise RuntimeError("engine returned a face without a template")
        keep = [
            f.template is not None and float(np.dot(f.template.vector, yao_template.vector)) < engine.min_similarity
            for f in team_faces
        ]
        dets = engine.detect(team)
        gdp_count = len(engine.detect(engine.read(sample_image("gdp"))))
        team_sims = [
            float(np.dot(f.template.vector, yao_template.vector)) for f in team_faces if f.template is not None
        ]
        bystanders = [p for p, k in zip(face_patches(team, dets), keep, strict=False) if k][:8]
        target = face_patches(yao, engine.detect(yao))[0]
        tmp = Path(tempfile.mkdtemp(prefix="overt-demo-"))
        try:
            wl = tmp / "watchlist" / SUBJECT
            wl.mkdir(parents=True)
            other_photo = cv2.resize(cv2.flip(yao, 1), None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
            cv2.imwrite(str(wl / "1.jpg"), other_photo, [cv2.IMWRITE_JPEG_QUALITY, 70])
            other = engine.one_face(engine.read(wl / "1.jpg"), what="altered copy")
            same_sim = float(np.dot(other.template.vector, yao_template.vector)) if other.template is not None else 0.0
            report = enrol_folder(tmp / "watchlist", engine)
            clip = SyntheticClip(
                960,
                540,
                25.0,
                4.0,
                bystanders,
                target,
                bystander_face_px=56,
                target_face_px=(64, 130),
                target_from_s=0.6,
            )
            clip_path = clip.write(tmp / "clip.mp4")
            mem = MemorySink()
            jsonl = JsonlSink(tmp / "alerts.jsonl")
            pipeline = compose_pipeline(
                [str(clip_path)],
                engine,
                report.watchlist.gallery(),
                [mem, jsonl],
                config=st.config.pipeline,
                annotate=annotate,
            )
            counters = pipeline.run()
            jsonl.close()
            written = sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        seconds = round(time.perf_counter() - t0, 2)
        first_visible = int(np.ceil(clip.target_from_s * clip.fps))
        alerts = [alert_to_json(a, include_images=False) for a in mem.alerts]
        result: dict[str, object] = {
            "model": engine.embedder.model_id,
            "faces_found": {"yaoming": 1, "gdp": gdp_count, "players": len(team_faces)},
            "same_person_similarity": round(same_sim, 4),
            "team_photo_faces": len(team_sims),
            "team_photo_matches": sum(x >= engine.min_similarity for x in team_sims),
            "clip": {"width_px": 960, "height_px": 540, "fps": 25.0, "frames": clip.frame_count},
            "bystanders": len(bystanders),
            "subject_first_visible_frame": first_visible,
            "min_similarity": pipeline.min_similarity,
            "alerts": alerts,
            "counters": counters.as_dict(),
            "files_written": written,
            "seconds": seconds,
        }
        if as_json:
            print_json(result)
            return
        con.print(
            "[bold]Overt demo[/bold]: the live pipeline on a clip made from photos shipped with the model package"
        )
        con.print(
            f"  clip: 960x540, {clip.frame_count} frames at 25 fps; {len(bystanders)} bystanders from players.jpg; "
            f"Yao Ming walks in at frame {first_visible}"
        )
        con.print(f"  faces detected: yaoming.jpg 1, gdp.jpg {gdp_count}, players.jpg {len(team_faces)}")
        verdict = "[green]same person[/green]" if same_sim >= engine.min_similarity else "[red]missed[/red]"
        con.print(f"  Yao Ming vs a mirrored, shrunk, re-compressed copy: similarity {same_sim:.3f} -> {verdict}")
        con.print(f"  watch list: 1 subject ({SUBJECT}), enrolled from that copy")
        for a in mem.alerts:
            con.print(
                f"  [red]ALERT[/red] {a.subject} on {a.camera_id}, track {a.track_id}, frame {a.frame_index} "
                f"(t={a.pts_s:.2f} s), similarity {a.similarity:.3f} (threshold {pipeline.min_similarity:.2f}), "
                f"{a.votes}/{a.window} agreeing probes, {a.frame_index - first_visible} frames after he appeared"
            )
        if not mem.alerts:
            con.print("  no alert")
        c = counters
        con.print(
            f"  counters: {c.frames} frames at {c.frames / max(c.elapsed_s, 1e-9):.1f} fps, {c.faces_seen} faces seen "
            f"in {c.tracks_started} tracks, {c.probes_embedded} embedded, {c.alerts} alert(s), "
            f"alert latency {c.alert_latency_ms_p50} ms"
        )
        con.print(
            f"  files the run wrote: {', '.join(w for w in written if w.startswith('alerts'))} "
            f"({len(mem.alerts)} line(s)). Nothing was written about the {len(bystanders)} bystanders; the temporary"
            f" folder is deleted. Done in {seconds} s."
        )
        if annotate:
            con.print(f"  redacted video (bystanders blurred, alert boxed): {annotate}")
