"""``overt eval ...``: accuracy by standard protocols."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from overt.cli._common import JSON_OPTION, err_console, out_console, print_json, state
from overt.config import probe_gate
from overt.errors import ConfigError, ImageError, MultipleFacesError, NoFaceError
from overt.evaluation.dataset import Split
from overt.evaluation.degrade import parse_degrade, run_degrade
from overt.evaluation.identify import EmbeddedImage, embed_images
from overt.evaluation.pairs import plot_roc, read_csv_pairs, read_lfw_pairs, run_pairs
from overt.evaluation.run import (
    IdentifyOptions,
    engine_embed_fn,
    make_split,
    parse_rate,
    parse_sizes,
    run_identify,
)

app = typer.Typer(help="Evaluate accuracy with standard protocols.", no_args_is_help=True)


@app.command("pairs")
def pairs_cmd(
    ctx: typer.Context,
    lfw_pairs: Path | None = typer.Option(None, "--lfw-pairs", help="LFW pairs.txt."),
    images: Path | None = typer.Option(None, "--images", help="Image folder (LFW: DIR/<Name>/<Name>_<NNNN>.jpg)."),
    csv_pairs: Path | None = typer.Option(None, "--csv", help="CSV with columns path_a,path_b,same."),
    roc: Path = typer.Option(Path("roc.png"), "--roc", help="Where to save the ROC plot (PNG)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """1:1 verification: 10-fold accuracy, TAR at FAR 1e-2/1e-3, ROC plot."""
    if (lfw_pairs is None) == (csv_pairs is None):
        raise ConfigError("give exactly one of --lfw-pairs or --csv")
    if lfw_pairs is not None:
        if images is None:
            raise ConfigError("--lfw-pairs needs --images DIR")
        pairs = read_lfw_pairs(lfw_pairs, images)
    elif csv_pairs is not None:
        pairs = read_csv_pairs(csv_pairs, images)
    engine = state(ctx).engine()

    def embed(path: Path) -> npt.NDArray[np.float32] | None:
        try:
            face = engine.one_face(engine.read(path), pick="centre", what=str(path))
        except (NoFaceError, MultipleFacesError, ImageError):
            return None
        return None if face.template is None else face.template.vector

    with _progress("embedding images") as bar:
        task = bar.add_task("embed", total=None)
        result, scores = run_pairs(pairs, embed, progress=lambda i, n: bar.update(task, completed=i, total=n))
    same = np.array([p.same for p in pairs], bool)
    roc_path = plot_roc(scores, same, roc, title=f"{engine.embedder.model_id}: {result.pairs} pairs")
    data = result.to_json()
    data["model"] = engine.embedder.model_id
    data["detector"] = engine.detector.model_id
    data["roc_png"] = str(roc_path)
    data["command"] = "overt " + shlex.join(sys.argv[1:]) if sys.argv else ""
    if as_json:
        print_json(data)
        return
    t = Table(title=f"Verification ({engine.embedder.model_id}, 10-fold)")
    t.add_column("measure")
    t.add_column("value", justify="right")
    t.add_row("pairs (genuine / impostor)", f"{result.pairs} ({result.genuine} / {result.impostor})")
    t.add_row("accuracy", f"{100 * result.accuracy:.2f} % ± {100 * result.accuracy_std:.2f}")
    for k, v in result.tar_at_far.items():
        t.add_row(f"TAR @ FAR {k}", f"{100 * v:.2f} %")
    t.add_row("threshold (mean of folds)", f"{result.threshold:.3f}")
    t.add_row("detection failures (pairs / images)", f"{result.detect_failures} / {result.failed_images}")
    t.add_row("ROC plot", str(roc_path))
    out_console().print(t)


# -- 1:N identification -------------------------------------------------------------------------


def command_line(ctx: typer.Context) -> str:
    """The command as typed, rebuilt from parsed options (works the same when called in-process)."""
    parts = ctx.command_path.split() or ["overt"]
    cfg = state(ctx).config_path
    if cfg:
        parts[1:1] = ["--config", cfg]
    for p in ctx.command.params:
        if getattr(p, "param_type_name", "") != "option" or p.name is None:
            continue
        v = ctx.params.get(p.name)
        if v is None or v is False or v == p.default or str(v) == str(p.default):
            continue
        parts += [p.opts[0]] if getattr(p, "is_flag", False) else [p.opts[0], str(v)]
    return shlex.join(parts)


def model_meta(ctx: typer.Context) -> dict[str, str]:
    """Embedder and detector ids with their sha256 (from the registry, verified at load)."""
    from overt.vision.models import ModelRegistry

    st = state(ctx)
    engine = st.engine()
    reg = ModelRegistry(st.config.engine.models)
    files = {spec.id: spec.sha256 for spec in reg}

    def sha(model_id: str) -> str:
        return files.get(model_id, "built in (no model file)")  # dlib's HOG detector is code, not a file

    return {
        "model_id": engine.embedder.model_id,
        "model_sha256": sha(engine.embedder.model_id),
        "detector_id": engine.detector.model_id,
        "detector_sha256": sha(engine.detector.model_id),
        "command": command_line(ctx),
    }


def embed_with_progress(ctx: typer.Context, paths: list[Path]) -> dict[Path, EmbeddedImage]:
    """Embed every image once, with a rich progress bar on a terminal."""
    embed = engine_embed_fn(state(ctx).engine())
    with _progress("embedding images") as bar:
        task = bar.add_task("embed", total=len(paths))
        return embed_images(paths, embed, progress=lambda i, n: bar.update(task, completed=i, total=n))


@app.command("identify")
def identify_cmd(
    ctx: typer.Context,
    identities: Path = typer.Option(..., "--identities", help="Folder DIR/<identity>/<image>."),
    split_csv: Path | None = typer.Option(
        None, "--split", help="CSV path,role[,identity] (role enrol|probe). Default: first image enrols."
    ),
    groups_csv: Path | None = typer.Option(None, "--groups", help="CSV identity,<attribute>... for fairness."),
    distractors: Path | None = typer.Option(None, "--distractors", help="Folder of extra faces (gallery only)."),
    exclude: Path | None = typer.Option(None, "--exclude", help="File of identities to drop, one per line."),
    sizes: str = typer.Option("100,1000,10000", "--sizes", help="Watch-list sizes to simulate."),
    nonmated_share: float = typer.Option(
        0.5, "--nonmated-share", help="Share of identities held out as non-mated (seeded)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for the held-out split, size subsets and bootstrap."),
    rank: int = typer.Option(1, "--rank", min=1, help="A mate counts as found only within this rank."),
    borrow_share: float = typer.Option(
        0.5, "--borrow-share", help="At most this share of non-mated identities may become distractors."
    ),
    threshold: float | None = typer.Option(None, "--threshold", help="Operating threshold for the fairness tables."),
    target_fpir: str = typer.Option("1/6000", "--target-fpir", help="FPIR that sets the fairness threshold."),
    n_boot: int = typer.Option(1000, "--bootstrap", min=100, help="Bootstrap draws for CIs."),
    report: Path | None = typer.Option(None, "--report", help="Write a self-contained HTML report here."),
    json_out: Path | None = typer.Option(None, "--json-out", help="Write the JSON result here too."),
    det: Path | None = typer.Option(None, "--det", help="Also save the DET curve as PNG here."),
    degrade: str | None = typer.Option(
        None,
        "--degrade",
        help="Degradation sweep instead: factors resolution,blur,jpeg,light,occlusion or a TOML of conditions.",
    ),
    degrade_probes: int | None = typer.Option(
        None, "--degrade-probes", min=2, help="Sweep at most this many probes (seeded, half non-mated)."
    ),
    plots: Path | None = typer.Option(None, "--plots", help="With --degrade: write one PNG per factor here."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Open-set 1:N identification: FNIR at FPIR 1e-2/1e-3/1/6000, rank-1/5, DET, sizes, fairness."""
    if not 0.0 <= borrow_share <= 1.0:
        raise ConfigError("--borrow-share must be in [0, 1]")
    opts = IdentifyOptions(
        identities=identities,
        split_csv=split_csv,
        groups_csv=groups_csv,
        distractors=distractors,
        exclude=exclude,
        sizes=parse_sizes(sizes),
        nonmated_share=nonmated_share,
        seed=seed,
        rank=rank,
        borrow_share=borrow_share,
        threshold=threshold,
        target_fpir=parse_rate(target_fpir),
        n_boot=n_boot,
    )
    split = make_split(opts)
    meta = model_meta(ctx)
    if degrade is not None:
        _degrade(ctx, split, degrade, degrade_probes, seed, rank, meta, report, plots, json_out, as_json)
        return
    cache = embed_with_progress(ctx, split.all_images())
    run = run_identify(opts, engine_embed_fn(state(ctx).engine()), meta, split=split, cache=cache)
    data = run.data
    if report is not None:
        _write(report, run.html().encode("utf-8"))
        data["report_html"] = str(report)
    if det is not None:
        _write(det, run.det_png)
        data["det_png"] = str(det)
    if json_out is not None:
        _write(json_out, (json.dumps(data, indent=2, default=str) + "\n").encode("utf-8"))
    if as_json:
        print_json(data)
        return
    _print_identify(data)


def _degrade(
    ctx: typer.Context,
    split: Split,
    degrade: str,
    max_probes: int | None,
    seed: int,
    rank: int,
    meta: dict[str, str],
    report: Path | None,
    plots: Path | None,
    json_out: Path | None,
    as_json: bool,
) -> None:
    conditions = parse_degrade(degrade)
    pq = state(ctx).config.pipeline.probe_quality
    gate = probe_gate(pq)
    with _progress("degraded probes") as bar:
        task = bar.add_task("sweep", total=None)
        run = run_degrade(
            split,
            state(ctx).engine(),
            conditions,
            gate,
            meta,
            seed=seed,
            rank=rank,
            max_probes=max_probes,
            progress=lambda i, n: bar.update(task, completed=i, total=n),
        )
    data = run.data
    if report is not None:
        _write(report, run.html.encode("utf-8"))
        data["report_html"] = str(report)
    if plots is not None:
        data["plots"] = {}
        for factor, png in run.pngs.items():
            _write(plots / f"degrade_{factor}.png", png)
            data["plots"][factor] = str(plots / f"degrade_{factor}.png")  # type: ignore[index]
    if json_out is not None:
        _write(json_out, (json.dumps(data, indent=2, default=str) + "\n").encode("utf-8"))
    if as_json:
        print_json(data)
        return
    t = Table(title=f"Degradation sweep ({meta['detector_id']} + {meta['model_id']})")
    for col in (
        "condition",
        "probes",
        "detected",
        "gate passes",
        "rank-1",
        "FNIR @ 1e-3",
        "FNIR @ 1/6000",
        "smallest FPIR",
    ):
        t.add_column(col)
    rows = data["conditions"]
    assert isinstance(rows, list)
    for r in rows:
        fn, sm = r["fnir_at_fpir"], r["at_smallest_measurable_fpir"]
        t.add_row(
            f"{r['factor']}: {r['label']}",
            str(r["probes"]),
            _pct(r["detection_rate"]),
            _pct(r["live_gate_pass_of_detected"]),
            _pct(r["rank1"]),
            "not measurable" if fn.get("0.001") is None else _pct(fn["0.001"]),
            "not measurable" if fn.get("1/6000") is None else _pct(fn["1/6000"]),
            "—" if sm.get("fnir") is None else f"FNIR {_pct(sm['fnir'])} at {sm['fpir']:.3g}",
        )
    out_console().print(t)
    notes = data["notes"]
    assert isinstance(notes, list)
    for n in notes:
        out_console().print(n)


def _progress(label: str) -> Progress:
    """A progress bar on stderr, shown only on a terminal."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console(),
        transient=True,
        disable=not sys.stderr.isatty(),
    )


def _write(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)


def _pct(x: object) -> str:
    return "—" if not isinstance(x, float) else f"{100 * x:.2f} %"


def _print_identify(data: dict[str, Any]) -> None:
    con = out_console()
    c = data["counts"]
    con.print(
        f"[bold]1:N identification[/] {data['meta']['model_id']}: {c['enrolled_subjects']} enrolled, "
        f"{c['mated_searches']} mated / {c['nonmated_searches']} non-mated searches, "
        f"{c['mated_searches_without_face'] + c['nonmated_searches_without_face']} probes without a face, "
        f"{c['enrolment_images_without_face']} enrolment images without a face"
    )
    t = Table(title="FNIR at FPIR")
    for col in ("FPIR target", "threshold", "FNIR", "TPIR", "note"):
        t.add_column(col)
    for k, v in data["fnir_at_fpir"].items():
        th = v.get("threshold")
        t.add_row(k, "—" if th is None else f"{th:.4f}", _pct(v.get("fnir")), _pct(v.get("tpir")), v.get("note", ""))
    con.print(t)
    con.print(f"rank-1 {_pct(data['rank1'])}   rank-5 {_pct(data['rank5'])}")
    s = Table(title="Watch-list size (threshold for FPIR <= 1/6000)")
    for col in ("requested", "reached", "threshold", "TPIR", "note"):
        s.add_column(col)
    for row in data["watchlist_sizes"]:
        th = row["at_target"].get("threshold")
        note = "; ".join(x for x in (row.get("note"), row["at_target"].get("note")) if x)
        s.add_row(
            str(row["requested"]),
            str(row["reached"]),
            "—" if th is None else f"{th:.4f}",
            _pct(row["at_target"].get("tpir")),
            note,
        )
    con.print(s)
    for k, v in data["fnir_at_fpir"].items():
        fb = v.get("at_smallest_measurable_fpir")
        if fb:
            con.print(
                f"FPIR {k} not measurable; at the smallest measurable FPIR {fb['fpir']:.3g}: "
                f"threshold {fb['threshold']:.4f}, FNIR {_pct(fb['fnir'])}"
            )
            break
    fair = data.get("fairness")
    if fair:
        con.print(
            f"fairness at threshold {fair['threshold']:.4f}; significant: {', '.join(fair['significant']) or 'none'}"
        )
    if data.get("report_html"):
        con.print(f"report: {data['report_html']}")


# -- live video evaluation ----------------------------------------------------------------------


@app.command("video")
def video_cmd(
    ctx: typer.Context,
    manifest: Path = typer.Option(..., "--manifest", help="CSV video,subject,stills (paths relative to it)."),
    min_similarity: float | None = typer.Option(
        None, "--min-similarity", help="Override the pipeline's vote threshold (e.g. from a profile)."
    ),
    profile: str | None = typer.Option(None, "--profile", help="Use the threshold of this calibrated profile."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Data directory holding profiles/."),
    json_out: Path | None = typer.Option(None, "--json-out", help="Write the JSON result here too."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run a manifest of videos through the live pipeline: true alerts, misses, false alerts per video."""
    from overt.evaluation.profiles import load_profile
    from overt.evaluation.video import evaluate_videos, pipeline_runner, read_manifest

    if min_similarity is not None and profile is not None:
        raise ConfigError("give at most one of --min-similarity or --profile")
    man = read_manifest(manifest)
    st = state(ctx)
    engine = st.engine()
    cfg = st.config.pipeline
    threshold_source = "pipeline default"
    if profile is not None:
        prof = load_profile(profile, data_dir)
        if prof.model_id != engine.embedder.model_id:
            raise ConfigError(
                f"profile {profile} is for model {prof.model_id}, the engine runs {engine.embedder.model_id}"
            )
        min_similarity = prof.min_similarity
        threshold_source = f"profile {profile}"
    elif min_similarity is not None:
        threshold_source = "--min-similarity"
    if min_similarity is not None:
        cfg = cfg.model_copy(update={"min_similarity": min_similarity})
    meta = model_meta(ctx)
    effective = cfg.min_similarity
    if effective is None:
        from overt.matching.decider import default_min_similarity

        effective = default_min_similarity(engine.embedder.model_id, fallback=engine.min_similarity)
    embed = engine_embed_fn(engine)
    with _progress("videos") as bar:
        task = bar.add_task("videos", total=len(man.videos))
        ev = evaluate_videos(
            man, embed, pipeline_runner(engine, cfg), progress=lambda i, n: bar.update(task, completed=i, total=n)
        )
    data: dict[str, Any] = {
        "meta": {
            **meta,
            "manifest": str(manifest),
            "min_similarity": effective,
            "threshold_source": threshold_source,
        },
        **ev.to_json(manifest.parent),
    }
    if json_out is not None:
        _write(json_out, (json.dumps(data, indent=2, default=str) + "\n").encode("utf-8"))
    if as_json:
        print_json(data)
        return
    t = Table(title=f"Video evaluation ({ev.runner}, {meta['model_id']}, threshold: {threshold_source})")
    for col in ("video", "expected", "alerted (true)", "missed", "false alerts", "faces", "frames", "error"):
        t.add_column(col)
    for o in data["videos"]:
        t.add_row(
            Path(o["video"]).name,
            ", ".join(o["expected"]),
            ", ".join(o["true_alerts"]),
            ", ".join(o["missed"]),
            f"{o['false_alerts']} {', '.join(o['false_alert_subjects'])}".strip(),
            str(o["faces_processed"]),
            str(o["frames"]),
            o["error"] or "",
        )
    out_console().print(t)
    tot = data["totals"]
    out_console().print(
        f"appearances alerted {tot['detected_appearances']}/{tot['appearances']}, false alerts {tot['false_alerts']} "
        f"over {tot['faces_processed']} faces processed"
    )


@app.command("pad")
def pad_cmd(
    ctx: typer.Context,
    real: Path = typer.Option(..., "--real", help="Folder of bona fide (live) face images."),
    attack: Path = typer.Option(..., "--attack", help="Folder of attack presentations (prints, screens, masks)."),
    threshold: float | None = typer.Option(
        None, "--threshold", min=0, max=1, help="P(live) threshold (default: pipeline.pad.threshold of the config)."
    ),
    det: Path = typer.Option(Path("pad_det.png"), "--det", help="Where to save the DET curve (PNG)."),
    no_detect: bool = typer.Option(False, "--no-detect", help="The images are face crops: score them whole."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Presentation-attack detection: APCER, BPCER, ACER (ISO/IEC 30107-3) and a DET curve,
    for the PAD backend configured in ``pipeline.pad`` (Overt ships no PAD model)."""
    from overt.config import build_pad
    from overt.evaluation.pad import pad_rates, plot_pad_det, score_folder

    st = state(ctx)
    pad_cfg = st.config.pipeline.pad
    pad = build_pad(pad_cfg)
    if pad is None:
        raise ConfigError("no PAD model configured (pipeline.pad.type = onnx, model_path, sha256): Overt ships none")
    tau = pad_cfg.threshold if threshold is None else threshold
    detect = None
    if not no_detect:
        engine = st.engine()
        detect = lambda img: engine.detect(img).xyxy  # noqa: E731
    bona = score_folder(pad, real, detect)
    attacks = score_folder(pad, attack, detect)
    rates = pad_rates(bona.scores, attacks.scores, tau)
    plot_pad_det(bona.scores, attacks.scores, rates, det, title=f"PAD DET: {pad.name}")
    doc = {
        "backend": pad.name,
        "threshold": tau,
        "apcer": rates.apcer,
        "bpcer": rates.bpcer,
        "acer": rates.acer,
        "bona_fide": rates.bona_fide,
        "attacks": rates.attacks,
        "no_face": bona.no_face + attacks.no_face,
        "det_png": str(det),
        "command": command_line(ctx),
    }
    if as_json:
        print_json(doc)
        return
    t = Table("backend", "threshold", "APCER", "BPCER", "ACER", "bona fide", "attacks")
    t.add_row(pad.name, f"{tau:g}", _pct(rates.apcer), _pct(rates.bpcer), _pct(rates.acer),
              str(rates.bona_fide), str(rates.attacks))  # fmt: skip
    out_console().print(t)
    err_console().print(f"DET curve written to {det}")
