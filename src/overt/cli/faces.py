"""``overt faces IMAGE...``: boxes, landmarks and quality of every face."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from overt.cli._common import JSON_OPTION, out_console, print_json, state
from overt.domain.faces import Face
from overt.domain.quality import QualityGate


def face_json(face: Face, gate: QualityGate) -> dict[str, object]:
    q = face.quality
    verdict = gate.check(q)
    return {
        "xyxy": [round(float(v), 1) for v in face.xyxy],
        "landmarks5": [[round(float(x), 1), round(float(y), 1)] for x, y in face.landmarks5],
        "quality": {
            "size_px": round(q.size_px, 1),
            "inter_eye_px": round(q.inter_eye_px, 1),
            "det_score": round(q.det_score, 4),
            "sharpness": round(q.sharpness, 1),
            "yaw_deg": round(q.yaw_deg, 1),
            "roll_deg": round(q.roll_deg, 1),
        },
        "enrolment_ok": verdict.ok,
        "enrolment_issues": list(verdict.reasons),
    }


def register(app: typer.Typer) -> None:
    @app.command("faces")
    def faces_cmd(
        ctx: typer.Context,
        images: list[Path] = typer.Argument(..., help="Image files."),
        as_json: bool = JSON_OPTION,
    ) -> None:
        """Detect faces and report box, landmarks and quality (and enrolment suitability) for each."""
        engine = state(ctx).engine()
        gate = QualityGate.for_enrolment()
        found: list[tuple[Path, tuple[int, int], list[Face]]] = []
        for path in images:
            image = engine.read(path)
            found.append((path, (int(image.shape[1]), int(image.shape[0])), engine.faces(image, embed=False)))
        if as_json:
            print_json(
                [
                    {"image": str(p), "width_px": w, "height_px": h, "faces": [face_json(f, gate) for f in fs]}
                    for p, (w, h), fs in found
                ]
            )
            return
        con = out_console()
        for path, (w, h), fs in found:
            con.print(f"[bold]{path}[/bold] ({w}x{h}): {len(fs)} face{'s' if len(fs) != 1 else ''}")
            if not fs:
                continue
            t = Table(show_edge=False)
            for col in ("#", "box x1,y1,x2,y2", "size px", "score", "sharpness", "yaw", "roll", "enrolment"):
                t.add_column(col, justify="left" if col in ("box x1,y1,x2,y2", "enrolment") else "right")
            for i, f in enumerate(fs, start=1):
                q = f.quality
                verdict = gate.check(q)
                t.add_row(
                    str(i),
                    ",".join(f"{float(v):.0f}" for v in f.xyxy),
                    f"{q.size_px:.0f}",
                    f"{q.det_score:.2f}",
                    f"{q.sharpness:.0f}",
                    f"{q.yaw_deg:+.0f}",
                    f"{q.roll_deg:+.0f}",
                    "ok" if verdict.ok else "; ".join(verdict.reasons),
                )
            con.print(t)
