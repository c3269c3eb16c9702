"""JSON and self-contained HTML reports for 1:N evaluations (plots as base64 PNG, matplotlib Agg)."""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from overt.evaluation.fairness import METHOD, GroupRate, group_curves
from overt.evaluation.identify import EmbeddedImage, IdentifyResult, PairExample, Searches
from overt.evaluation.metrics import det_curve

THUMB_PX = 72


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    _plt().close(fig)
    return buf.getvalue()


def det_png(result: IdentifyResult, *, title: str) -> bytes:
    """DET curve: FNIR against FPIR, both log axes, with the FPIR targets marked."""
    plt = _plt()
    ths, fpir, fnir = det_curve(result.mated.score, result.mated.rank, result.nonmated.score, rank=result.rank)
    n_nm = max(1, len(result.nonmated))
    n_m = max(1, len(result.mated))
    fig, ax = plt.subplots(figsize=(6, 4.5), dpi=110)
    floor_x, floor_y = 0.5 / n_nm, 0.5 / n_m
    if ths.size:
        ax.step(np.maximum(fpir, floor_x), np.maximum(fnir, floor_y), where="post", lw=2)
    for label, t in (("1e-2", 1e-2), ("1e-3", 1e-3), ("1/6000", 1 / 6000)):
        ax.axvline(t, color="grey", ls=":", lw=1)
        ax.text(t, 1.0, label, rotation=90, va="top", ha="right", fontsize=7, color="grey")
    ax.axvline(1 / n_nm, color="red", ls="--", lw=1, label=f"smallest measurable FPIR (1/{n_nm})")
    ax.text(
        0.99,
        0.01,
        f"rates of 0 drawn at half of 1/n (n = {n_nm} non-mated, {n_m} mated)",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=7,
        color="grey",
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(min(floor_x, 1 / 6000) / 2, 1.0)
    ax.set_ylim(floor_y / 2, 1.05)
    ax.set_xlabel("FPIR (false positive identification rate)")
    ax.set_ylabel(f"FNIR (rank {result.rank})")
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    return _png(fig)


def npl_png(
    mated: Searches,
    nonmated: Searches,
    groups: Mapping[str, Mapping[str, str]],
    threshold: float,
    *,
    rank: int = 1,
) -> bytes:
    """Per-group FNIR and FPIR as the threshold moves (one row of panels per attribute)."""
    plt = _plt()
    attrs = sorted(groups)
    ths = np.linspace(0.0, 0.9, 46)
    fig, axes = plt.subplots(len(attrs), 2, figsize=(9, 3.2 * len(attrs)), dpi=100, squeeze=False)
    for row, attr in enumerate(attrs):
        curves = group_curves(mated, nonmated, groups[attr], ths.tolist(), rank=rank)
        for g, (fn, fp) in curves.items():
            axes[row][0].plot(ths, fn, label=g)
            fpa = np.asarray(fp, np.float64)
            axes[row][1].plot(ths, np.where(fpa > 0, fpa, np.nan), label=g)  # FPIR 0 cannot sit on a log axis
        for col, name in ((0, "FNIR"), (1, "FPIR")):
            ax = axes[row][col]
            ax.axvline(threshold, color="black", ls="--", lw=1)
            ax.set_xlabel("threshold (min_similarity)")
            ax.set_ylabel(name)
            ax.set_title(f"{attr}: {name} by group", fontsize=9)
            ax.grid(True, alpha=0.3)
            ax.legend(fontsize=7)
        axes[row][1].set_yscale("log")
        axes[row][1].text(
            0.99,
            0.02,
            "lines end where FPIR reaches 0",
            transform=axes[row][1].transAxes,
            ha="right",
            fontsize=7,
            color="grey",
        )
    return _png(fig)


def thumbnail_b64(path: Path | None, box: tuple[float, float, float, float] | None) -> str | None:
    """Small JPEG (base64) of the face region (with margin) of an evaluation image."""
    if path is None:
        return None
    try:
        from PIL import Image

        with Image.open(path) as im:
            img = im.convert("RGB")
            if box is not None:
                x1, y1, x2, y2 = box
                m = 0.25 * max(x2 - x1, y2 - y1)
                img = img.crop(
                    (
                        max(0, int(x1 - m)),
                        max(0, int(y1 - m)),
                        min(img.width, int(x2 + m)),
                        min(img.height, int(y2 + m)),
                    )
                )
            img.thumbnail((THUMB_PX, THUMB_PX))
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=80)
        return base64.b64encode(buf.getvalue()).decode("ascii")
    except (OSError, ValueError):
        return None


def pairs_json(pairs: Sequence[PairExample], root: Path | None) -> list[dict[str, object]]:
    def rel(p: Path | None) -> str | None:
        if p is None:
            return None
        if root is not None:
            try:
                return p.relative_to(root).as_posix()
            except ValueError:
                pass
        return str(p)

    return [
        {
            "score": None if not math.isfinite(p.score) else round(p.score, 6),
            "probe": rel(p.probe),
            "probe_identity": p.probe_identity,
            "gallery": rel(p.gallery),
            "gallery_identity": p.gallery_identity,
        }
        for p in pairs
    ]


def _fmt(x: object, pct: bool = False) -> str:
    if x is None:
        return "—"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        if math.isnan(x):
            return "—"
        return f"{100 * x:.2f} %" if pct else f"{x:.4g}"
    return html.escape(str(x))


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}
th{background:#f3f3f3}.note{background:#fff8e0;border-left:4px solid #e0a800;padding:.5em 1em}
.sig{background:#fde2e2}code{background:#f3f3f3;padding:1px 4px}.pair img{height:72px;margin:2px}
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], classes: Sequence[str] | None = None) -> str:
    h = "".join(f"<th>{html.escape(c)}</th>" for c in header)
    body = []
    for i, r in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes and classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    return f"<table><tr>{h}</tr>{''.join(body)}</table>"


def render_html(
    data: Mapping[str, Any],
    *,
    det: bytes | None,
    npl: bytes | None,
    cache: Mapping[Path, EmbeddedImage],
    result: IdentifyResult,
) -> str:
    """One self-contained HTML page (inline CSS, base64 images) from the JSON ``data``."""
    meta = data["meta"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Overt 1:N identification report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>1:N identification (open-set, NIST FRTE definitions)</h1>",
        "<p class='note'>This report embeds small thumbnails of the evaluation images the user supplied "
        "(highest-scoring non-mated and lowest-scoring mated pairs) so label errors can be found and "
        "excluded with <code>--exclude FILE</code>. It contains no data of people outside that set. "
        "Keep it with the evaluation data and under the same terms.</p>",
        "<h2>Provenance</h2>",
        _table(
            ["item", "value"],
            [
                ["command", f"<code>{html.escape(str(meta['command']))}</code>"],
                ["date (UTC)", _fmt(meta["date_utc"])],
                ["embedder", f"{_fmt(meta['model_id'])} sha256 <code>{_fmt(meta['model_sha256'])}</code>"],
                ["detector", f"{_fmt(meta['detector_id'])} sha256 <code>{_fmt(meta['detector_sha256'])}</code>"],
                ["identities folder", _fmt(meta["identities_dir"])],
                ["split", _fmt(meta["split_rule"])],
                ["seed / non-mated share", f"{meta['seed']} / {meta['nonmated_share']}"],
                ["file list sha256", f"<code>{_fmt(meta['file_list_sha256'])}</code>"],
                ["excluded identities", _fmt(", ".join(meta["excluded"]) or "none")],
                ["rank for FNIR", _fmt(meta["rank"])],
            ],
        ),
        "<h2>Data</h2>",
        _table(["count", "value"], [[html.escape(k), _fmt(v)] for k, v in data["counts"].items()]),
        "<h2>Accuracy</h2>",
        _table(
            ["FPIR target", "threshold", "achieved FPIR", "FNIR", "TPIR", "wrong-subject alerts", "note"],
            [
                [
                    html.escape(k),
                    _fmt(v.get("threshold")),
                    _fmt(v.get("achieved_fpir")),
                    _fmt(v.get("fnir"), True),
                    _fmt(v.get("tpir"), True),
                    _fmt(v.get("misidentified"), True),
                    _fmt(v.get("note", "")) + _fallback(v),
                ]
                for k, v in data["fnir_at_fpir"].items()
            ],
        ),
        _table(
            ["closed-set CMC", "hit rate"],
            [["rank 1", _fmt(data["rank1"], True)], ["rank 5", _fmt(data["rank5"], True)]],
        ),
    ]
    if det is not None:
        parts.append(f"<img alt='DET curve' src='data:image/png;base64,{base64.b64encode(det).decode()}'>")
    parts += [
        "<h2>Threshold table</h2>",
        _table(
            [
                "threshold",
                "FPIR",
                "FNIR",
                "TPIR",
                "false alerts / 1,000 non-mated faces",
                "mated searches alerting on a wrong subject",
            ],
            [
                [
                    _fmt(r["threshold"]),
                    _fmt(r["fpir"]),
                    _fmt(r["fnir"], True),
                    _fmt(r["tpir"], True),
                    _fmt(r["false_alerts_per_1000"]),
                    _fmt(r.get("misidentified"), True),
                ]
                for r in data["threshold_table"]
            ],
        ),
        "<h2>Watch-list size</h2><p>Threshold keeping FPIR &le; 1/6000 at each size, and its TPIR. "
        "Sizes beyond the identities available are reported as reached, never synthesised.</p>",
        _table(
            [
                "requested",
                "reached",
                "enrolled",
                "folder distractors",
                "borrowed non-mated",
                "non-mated searches",
                "threshold",
                "TPIR",
                "rank 1",
                "note",
            ],
            [
                [
                    _fmt(s["requested"]),
                    _fmt(s["reached"]),
                    _fmt(s["enrolled_subjects"]),
                    _fmt(s["folder_distractors"]),
                    _fmt(s["borrowed_nonmated_identities"]),
                    _fmt(s["nonmated_searches"]),
                    _fmt(s["at_target"].get("threshold")),
                    _fmt(s["at_target"].get("tpir"), True),
                    _fmt(s["rank1"], True),
                    _fmt("; ".join(x for x in (s.get("note"), s["at_target"].get("note")) if x))
                    + _fallback(s["at_target"]),
                ]
                for s in data["watchlist_sizes"]
            ],
        ),
    ]
    fair = data.get("fairness")
    if fair:
        parts += [
            f"<h2>Fairness at threshold {_fmt(fair['threshold'])}</h2>",
            f"<p>{html.escape(fair['threshold_source'])}. Method: {html.escape(fair['method'])}.</p>",
            _table(
                [
                    "attribute",
                    "group",
                    "metric",
                    "rate",
                    "95 % CI",
                    "searches",
                    "identities",
                    "diff vs rest",
                    "p",
                    "p (Holm)",
                    "significant",
                ],
                [
                    [
                        _fmt(g["attribute"]),
                        _fmt(g["group"]),
                        _fmt(g["metric"]),
                        _fmt(g["rate"], True),
                        f"{_fmt(g['ci95'][0], True)} – {_fmt(g['ci95'][1], True)}",
                        _fmt(g["searches"]),
                        _fmt(g["identities"]),
                        _fmt(g["diff_vs_rest"]),
                        _fmt(g["p_value"]),
                        _fmt(g["p_holm"]),
                        _fmt(g["significant"]),
                    ]
                    for g in fair["groups"]
                ],
                ["sig" if g["significant"] else "" for g in fair["groups"]],
            ),
        ]
        if npl is not None:
            parts.append(f"<img alt='per-group rates' src='data:image/png;base64,{base64.b64encode(npl).decode()}'>")
    parts.append("<h2>Highest-scoring non-mated pairs</h2>")
    parts.append(_pairs_html(result.worst_nonmated, cache))
    parts.append("<h2>Lowest-scoring mated pairs</h2><p>Score — means no face was found in the probe.</p>")
    parts.append(_pairs_html(result.worst_mated, cache))
    if data["counts"].get("enrolment_images_without_face"):
        parts.append("<h2>Enrolment images without a face</h2><ul>")
        parts += [f"<li>{html.escape(str(p))}</li>" for p in result.gallery.failed_images]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _fallback(v: Mapping[str, Any]) -> str:
    fb = v.get("at_smallest_measurable_fpir")
    if not fb:
        return ""
    return (
        f"<br>at the smallest measurable FPIR {_fmt(fb['fpir'])}: threshold {_fmt(fb['threshold'])}, "
        f"FNIR {_fmt(fb['fnir'], True)}"
    )


def _pairs_html(pairs: Sequence[PairExample], cache: Mapping[Path, EmbeddedImage]) -> str:
    rows = []
    for p in pairs:
        cells = []
        for path in (p.probe, p.gallery):
            e = cache.get(path) if path is not None else None
            b = thumbnail_b64(path, e.xyxy if e is not None else None)
            cells.append(f"<img alt='' src='data:image/jpeg;base64,{b}'>" if b else "—")
        rows.append(
            [
                _fmt(p.score if math.isfinite(p.score) else None),
                f"<span class='pair'>{cells[0]}</span>",
                _fmt(p.probe_identity),
                f"<span class='pair'>{cells[1]}</span>",
                _fmt(p.gallery_identity),
            ]
        )
    return _table(["score", "probe", "probe identity", "best gallery image", "gallery identity"], rows)


def fairness_json(rates: Sequence[GroupRate], threshold: float, source: str) -> dict[str, object]:
    return {
        "threshold": round(threshold, 6),
        "threshold_source": source,
        "method": METHOD,
        "groups": [g.to_json() for g in rates],
        "significant": [f"{g.attribute}={g.group} {g.metric}" for g in rates if g.significant],
    }
