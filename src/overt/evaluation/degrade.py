"""Degradation sweep for 1:N identification: how accuracy falls on CCTV-like probes.

The gallery stays clean. Every probe image is degraded deterministically (a seed per condition
and image) *before* detection, the degraded image goes through the whole engine (detection,
alignment, quality, embedding), and the open-set metrics are measured per condition: detection
rate, FNIR at FPIR 1e-3 and 1/6,000 (or "not measurable", with the smallest measurable FPIR
instead), rank-1, and the share of detected faces the live quality gate would let through.

Factors (``overt eval identify --degrade resolution,blur,jpeg,light,occlusion``):

- ``resolution``: the image is shrunk so the inter-eye distance is 12-64 px (never enlarged:
  a probe whose eyes are already closer is left out of that condition, and counted) and placed
  at the centre of a 640x480 mid-grey frame, which a 640 px detector sees at 1:1;
- ``blur``: Gaussian (sigma in px) and linear horizontal motion blur (kernel length in px);
- ``jpeg``: re-encoded at quality 10-50;
- ``light``: dusk: gamma, brightness scale and Gaussian sensor noise;
- ``occlusion``: a synthetic mask over the lower face, or sunglasses over the eye band,
  placed from the face's landmarks in the clean image.

Where the degradation needs to know where the face is (resolution, occlusion), the clean
probe's own detection is used; a probe with no face when clean fails in every condition.
Nothing degraded is written to disk.
"""

from __future__ import annotations

import hashlib
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from overt.domain.quality import QualityGate
from overt.errors import ConfigError, ImageError, MultipleFacesError, NoFaceError
from overt.evaluation.dataset import ImageRecord, Split
from overt.evaluation.identify import EmbeddedImage, evaluate

Image = npt.NDArray[np.uint8]
Factor = Literal["resolution", "blur", "jpeg", "light", "occlusion"]
FACTORS: tuple[Factor, ...] = ("resolution", "blur", "jpeg", "light", "occlusion")
FRAME_WH = (640, 480)


@dataclass(frozen=True, slots=True)
class Condition:
    """One degradation. ``kind`` refines the factor (e.g. gaussian/motion blur, mask/sunglasses)."""

    factor: Factor
    kind: str
    level: float
    gamma: float = 1.0
    noise: float = 0.0

    @property
    def label(self) -> str:
        if self.factor == "resolution":
            return f"eyes {self.level:g} px"
        if self.factor == "blur":
            return f"{self.kind} {'σ' if self.kind == 'gaussian' else 'len'} {self.level:g}"
        if self.factor == "jpeg":
            return f"JPEG q{self.level:g}"
        if self.factor == "light":
            return f"x{self.level:g} γ{self.gamma:g} noise {self.noise:g}"
        return self.kind


def default_conditions(factors: Sequence[str]) -> list[Condition]:
    """The standard sweep for these factors (order kept)."""
    out: list[Condition] = []
    for f in factors:
        if f == "resolution":
            out += [Condition("resolution", "eyes", float(px)) for px in (64, 48, 32, 24, 16, 12)]
        elif f == "blur":
            out += [Condition("blur", "gaussian", s) for s in (1.0, 2.0, 3.0)]
            out += [Condition("blur", "motion", n) for n in (7.0, 11.0, 15.0)]
        elif f == "jpeg":
            out += [Condition("jpeg", "jpeg", float(q)) for q in (50, 40, 30, 20, 10)]
        elif f == "light":
            out += [
                Condition("light", "dusk", 0.5, gamma=1.5, noise=4.0),
                Condition("light", "dusk", 0.3, gamma=2.0, noise=8.0),
                Condition("light", "dusk", 0.15, gamma=2.5, noise=12.0),
            ]
        elif f == "occlusion":
            out += [Condition("occlusion", "mask", 1.0), Condition("occlusion", "sunglasses", 1.0)]
        else:
            raise ConfigError(f"unknown degradation factor {f!r} (known: {', '.join(FACTORS)})")
    return out


def parse_degrade(text: str) -> list[Condition]:
    """``--degrade``: a comma-separated list of factors, or the path of a TOML file of conditions.

    TOML: ``[[condition]]`` tables with ``factor``, ``kind``, ``level`` and, for light, ``gamma``
    and ``noise``.
    """
    if text.endswith(".toml"):
        path = Path(text)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"--degrade {path}: {exc}") from exc
        out = []
        for i, c in enumerate(data.get("condition", [])):
            try:
                factor = str(c["factor"])
                if factor not in FACTORS:
                    raise ConfigError(f"--degrade {path}: condition {i + 1}: unknown factor {factor!r}")
                cond = Condition(
                    factor,  # checked against FACTORS above
                    str(c.get("kind", factor)),
                    float(c["level"]),
                    gamma=float(c.get("gamma", 1.0)),
                    noise=float(c.get("noise", 0.0)),
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ConfigError(f"--degrade {path}: condition {i + 1}: {exc}") from exc
            _check(cond)
            out.append(cond)
        if not out:
            raise ConfigError(f"--degrade {path}: no [[condition]] tables")
        return out
    factors = [f.strip() for f in text.split(",") if f.strip()]
    if not factors:
        raise ConfigError("--degrade needs factors (resolution,blur,jpeg,light,occlusion) or a .toml file")
    return default_conditions(factors)


def _check(c: Condition) -> None:
    ok = {
        "resolution": c.level >= 4,
        "blur": c.kind in ("gaussian", "motion") and c.level > 0,
        "jpeg": 1 <= c.level <= 100,
        "light": 0 < c.level <= 2 and c.gamma > 0 and c.noise >= 0,
        "occlusion": c.kind in ("mask", "sunglasses"),
    }[c.factor]
    if not ok:
        raise ConfigError(f"invalid degradation condition {c}")


def seed_for(condition: Condition, path: Path, seed: int) -> int:
    """A stable per-(condition, image, seed) seed (not Python's salted hash)."""
    key = f"{seed}|{condition}|{path.as_posix()}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little")


def degrade(image: Image, c: Condition, landmarks5: npt.NDArray[np.float32], rng: np.random.Generator) -> Image | None:
    """The degraded image, or ``None`` when the condition cannot be reached without enlarging."""
    lms = np.asarray(landmarks5, np.float64)
    if c.factor == "resolution":
        eye = float(np.linalg.norm(lms[1] - lms[0]))
        scale = c.level / max(eye, 1e-6)
        if scale >= 1.0:
            return None
        small = np.asarray(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), np.uint8)
        return _in_frame(small, lms.mean(axis=0) * scale, rng)
    if c.factor == "blur":
        if c.kind == "gaussian":
            return np.ascontiguousarray(cv2.GaussianBlur(image, (0, 0), c.level), np.uint8)
        n = max(1, round(c.level))
        kernel = np.zeros((n, n), np.float32)
        kernel[n // 2, :] = 1.0 / n
        return np.ascontiguousarray(cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT), np.uint8)
    if c.factor == "jpeg":
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(c.level)])
        if not ok:
            raise ImageError("JPEG encoding failed")
        return np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), np.uint8)
    if c.factor == "light":
        x = (image.astype(np.float32) / 255.0) ** c.gamma * c.level * 255.0
        x += rng.normal(0.0, c.noise, x.shape).astype(np.float32)
        return np.ascontiguousarray(np.clip(x, 0, 255).astype(np.uint8))
    return _occlude(image, c.kind, lms)


def _in_frame(small: Image, face_centre: npt.NDArray[np.float64], rng: np.random.Generator) -> Image:
    """``small`` at the centre of a 640x480 mid-grey frame with faint noise (cropped around the face if larger)."""
    fw, fh = FRAME_WH
    frame = np.clip(127.0 + rng.normal(0.0, 2.0, (fh, fw, 3)), 0, 255).astype(np.uint8)
    h, w = small.shape[:2]
    # Top-left of ``small`` in the frame: centred, or (when larger) shifted so the face stays in view.
    ox = (fw - w) // 2 if w <= fw else int(np.clip(fw / 2 - face_centre[0], fw - w, 0))
    oy = (fh - h) // 2 if h <= fh else int(np.clip(fh / 2 - face_centre[1], fh - h, 0))
    x0, y0 = max(ox, 0), max(oy, 0)
    x1, y1 = min(ox + w, fw), min(oy + h, fh)
    frame[y0:y1, x0:x1] = small[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
    return frame


def _occlude(image: Image, kind: str, lms: npt.NDArray[np.float64]) -> Image:
    out = image.copy()
    le, re, nose, lm, rm = lms
    eye = float(np.linalg.norm(re - le))
    axis = (re - le) / max(eye, 1e-6)  # along the eyes
    down = np.array([-axis[1], axis[0]])  # towards the chin
    if kind == "sunglasses":
        centre = (le + re) / 2
        half_w, half_h = 1.0 * eye, 0.32 * eye
        colour = (20, 20, 20)
    else:  # mask: from just under the eyes' line past the nose, down to under the chin
        top = nose - 0.25 * eye * down
        bottom = (lm + rm) / 2 + 0.9 * eye * down
        centre = (top + bottom) / 2
        half_w = 0.95 * eye
        half_h = float(np.dot(bottom - top, down)) / 2
        colour = (200, 170, 120)
    corners = [centre + sx * half_w * axis + sy * half_h * down for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))]
    cv2.fillConvexPoly(out, np.round(np.array(corners)).astype(np.int32), colour, lineType=cv2.LINE_AA)
    return out


# -- the sweep ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProbeFace:
    """What the engine found in one (clean or degraded) probe image. Never persisted."""

    vector: npt.NDArray[np.float32] | None
    xyxy: tuple[float, float, float, float] | None
    landmarks5: npt.NDArray[np.float32] | None
    passes_live_gate: bool
    error: str | None = None


ProbeFn = Callable[[Image], ProbeFace]


def engine_probe_fn(engine: object, gate: QualityGate) -> ProbeFn:
    """Embed the face nearest the image centre (as ``overt eval identify`` does) and gate it."""
    from overt.vision.engine import FaceEngine

    if not isinstance(engine, FaceEngine):
        raise TypeError("engine_probe_fn needs a FaceEngine")

    def probe(image: Image) -> ProbeFace:
        try:
            face = engine.one_face(image, pick="centre")
        except NoFaceError:
            return ProbeFace(None, None, None, False, "no face")
        except (MultipleFacesError, ImageError) as exc:
            return ProbeFace(None, None, None, False, exc.__class__.__name__)
        if face.template is None:
            return ProbeFace(None, None, None, False, "no template")
        x1, y1, x2, y2 = (float(v) for v in face.xyxy)
        return ProbeFace(face.template.vector, (x1, y1, x2, y2), face.landmarks5, gate.check(face.quality).ok, None)

    return probe


@dataclass(frozen=True, slots=True)
class ConditionResult:
    condition: Condition | None  # None: the clean baseline
    probes: int
    skipped: int
    detection_rate: float
    live_gate_pass: float
    rank1: float
    fnir: dict[str, float | None]
    smallest_measurable: dict[str, float | None]

    def to_json(self) -> dict[str, object]:
        c = self.condition
        return {
            "factor": "clean" if c is None else c.factor,
            "kind": "clean" if c is None else c.kind,
            "level": None if c is None else c.level,
            "gamma": None if c is None else c.gamma,
            "noise": None if c is None else c.noise,
            "label": "clean" if c is None else c.label,
            "probes": self.probes,
            "skipped_would_need_enlarging": self.skipped,
            "detection_rate": _r(self.detection_rate),
            "live_gate_pass_of_detected": _r(self.live_gate_pass),
            "rank1": _r(self.rank1),
            "fnir_at_fpir": self.fnir,
            "at_smallest_measurable_fpir": self.smallest_measurable,
        }


def _r(x: float) -> float | None:
    return None if not math.isfinite(x) else round(float(x), 4)


def subsample(split: Split, max_probes: int | None, seed: int) -> Split:
    """At most ``max_probes`` probes, half mated and half non-mated where possible (seeded)."""
    if max_probes is None or len(split.mated) + len(split.nonmated) <= max_probes:
        return split
    rng = np.random.default_rng(seed)
    n_nm = min(len(split.nonmated), max_probes // 2)
    n_m = min(len(split.mated), max_probes - n_nm)
    n_nm = min(len(split.nonmated), max_probes - n_m)

    def pick(recs: Sequence[ImageRecord], n: int) -> tuple[ImageRecord, ...]:
        idx = sorted(rng.choice(len(recs), size=n, replace=False).tolist())
        return tuple(recs[i] for i in idx)

    return replace(split, mated=pick(split.mated, n_m), nonmated=pick(split.nonmated, n_nm))


@dataclass(frozen=True, slots=True)
class Sweep:
    """Per-condition results (clean baseline first) and the median face-box side per inter-eye
    pixel of the clean probes (to draw the live gate's ``min_size_px`` on the resolution axis)."""

    results: tuple[ConditionResult, ...]
    box_side_per_eye_px: float


def run_sweep(
    split: Split,
    gallery_cache: Mapping[Path, EmbeddedImage],
    conditions: Sequence[Condition],
    probe: ProbeFn,
    read: Callable[[Path], Image],
    *,
    seed: int = 0,
    rank: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> Sweep:
    """The clean baseline and every condition, on the same probes and the same clean gallery."""
    probes = [*split.mated, *split.nonmated]
    clean_images: dict[Path, Image] = {}
    clean: dict[Path, ProbeFace] = {}
    total = len(probes) * (len(conditions) + 1)
    done = 0
    for r in probes:
        if r.path not in clean:
            try:
                img = read(r.path)
            except ImageError as exc:
                clean[r.path] = ProbeFace(None, None, None, False, exc.__class__.__name__)
                continue
            clean_images[r.path] = img
            clean[r.path] = probe(img)
        done += 1
        if progress is not None:
            progress(done, total)
    results = [_measure(None, split, gallery_cache, clean, skipped=0, rank=rank, seed=seed)]
    for c in conditions:
        faces: dict[Path, ProbeFace] = {}
        skipped = 0
        for r in probes:
            done += 1
            if progress is not None:
                progress(done, total)
            if r.path in faces:
                continue
            base = clean[r.path]
            clean_img = clean_images.get(r.path)
            if clean_img is None or base.landmarks5 is None:
                faces[r.path] = base  # no face even when clean: a failure in every condition
                continue
            rng = np.random.default_rng(seed_for(c, r.path, seed))
            out = degrade(clean_img, c, base.landmarks5, rng)
            if out is None:
                skipped += 1
                continue
            faces[r.path] = probe(out)
        sub = replace(
            split,
            mated=tuple(r for r in split.mated if r.path in faces),
            nonmated=tuple(r for r in split.nonmated if r.path in faces),
        )
        results.append(_measure(c, sub, gallery_cache, faces, skipped=skipped, rank=rank, seed=seed))
    ratios = [
        min(f.xyxy[2] - f.xyxy[0], f.xyxy[3] - f.xyxy[1])
        / max(float(np.linalg.norm(f.landmarks5[1] - f.landmarks5[0])), 1e-6)
        for f in clean.values()
        if f.xyxy is not None and f.landmarks5 is not None
    ]
    return Sweep(tuple(results), float(np.median(ratios)) if ratios else math.nan)


def _measure(
    c: Condition | None,
    split: Split,
    gallery_cache: Mapping[Path, EmbeddedImage],
    faces: Mapping[Path, ProbeFace],
    *,
    skipped: int,
    rank: int,
    seed: int,
) -> ConditionResult:
    cache: dict[Path, EmbeddedImage] = {r.path: gallery_cache[r.path] for r in split.enrol}
    for path, f in faces.items():
        cache[path] = EmbeddedImage(f.vector, f.xyxy, f.error)
    probes = [*split.mated, *split.nonmated]
    detected = [faces[r.path] for r in probes if faces[r.path].vector is not None]
    if not split.mated or not split.nonmated:
        fnir: dict[str, float | None] = {"0.001": None, "1/6000": None}
        return ConditionResult(c, len(probes), skipped, math.nan, math.nan, math.nan, fnir, dict(fnir))
    result = evaluate(split, cache, sizes=(), rank=rank, seed=seed)
    fnir = {}
    smallest: dict[str, float | None] = {}
    for t in result.targets:
        if t.label not in ("0.001", "1/6000"):
            continue
        fnir[t.label] = _r(t.fnir) if t.choice.measurable else None
        if not t.choice.measurable and t.fallback is not None and t.fallback.measurable:
            smallest["fpir"] = _r(t.fallback.target_fpir)
            smallest["fnir"] = _r(t.fallback_fnir)
    return ConditionResult(
        c,
        len(probes),
        skipped,
        len(detected) / len(probes) if probes else math.nan,
        sum(f.passes_live_gate for f in detected) / len(detected) if detected else math.nan,
        result.rank1,
        fnir,
        smallest,
    )


# -- report -------------------------------------------------------------------------------------


def factor_png(sweep: Sweep, factor: Factor, gate: QualityGate, *, title: str) -> bytes:
    """One plot per factor: detection rate, rank-1, TPIR (1 - FNIR) at the smallest measurable
    FPIR and the live gate's pass share against the condition, with the clean baseline first."""
    from overt.evaluation.report import _plt, _png

    rows = [sweep.results[0], *(r for r in sweep.results[1:] if r.condition and r.condition.factor == factor)]
    labels = [("clean" if r.condition is None else r.condition.label) for r in rows]
    x = np.arange(len(rows))

    def series(get: Callable[[ConditionResult], float | None]) -> list[float]:
        return [math.nan if (v := get(r)) is None else float(v) for r in rows]

    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 4.2), dpi=100)
    ax.plot(x, series(lambda r: r.detection_rate), "o-", label="detection rate")
    ax.plot(x, series(lambda r: r.rank1), "s-", label="rank-1")
    ax.plot(
        x,
        series(lambda r: None if r.fnir.get("0.001") is None else 1.0 - float(r.fnir["0.001"] or 0.0)),
        "^-",
        label="TPIR at FPIR 1e-3",
    )
    ax.plot(
        x,
        series(
            lambda r: (
                None if r.smallest_measurable.get("fnir") is None else 1.0 - float(r.smallest_measurable["fnir"] or 0.0)
            )
        ),
        "v--",
        label="TPIR at smallest measurable FPIR",
    )
    ax.plot(x, series(lambda r: r.live_gate_pass), "D:", color="black", label="live quality gate lets through")
    if factor == "resolution" and math.isfinite(sweep.box_side_per_eye_px):
        gate_eye = gate.min_size_px / sweep.box_side_per_eye_px
        levels = [math.inf if r.condition is None else r.condition.level for r in rows]
        # Position of the gate's eye distance on the categorical axis (levels fall left to right).
        pos = np.interp(-gate_eye, [-v for v in levels[1:]], x[1:]) if len(rows) > 2 else math.nan
        if math.isfinite(pos):
            ax.axvline(
                pos,
                color="red",
                linestyle="--",
                label=f"gate min_size_px {gate.min_size_px:g} (~{gate_eye:.0f} px eyes)",
            )
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=30, ha="right")
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("rate")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    return _png(fig)


def sweep_html(sweep: Sweep, pngs: Mapping[str, bytes], *, title: str, gate: QualityGate, notes: Sequence[str]) -> str:
    """A self-contained HTML page: the table of every condition and one plot per factor."""
    import base64
    import html

    def pct(v: object) -> str:
        return "—" if not isinstance(v, float) else f"{100 * v:.1f} %"

    head = [
        "factor",
        "condition",
        "probes",
        "left out",
        "detected",
        "live gate passes",
        "rank-1",
        "FNIR @ 1e-3",
        "FNIR @ 1/6000",
        "FNIR @ smallest measurable FPIR",
    ]
    rows = []
    for r in sweep.results:
        d = r.to_json()
        fn = d["fnir_at_fpir"]
        sm = d["at_smallest_measurable_fpir"]
        assert isinstance(fn, dict)
        assert isinstance(sm, dict)
        cells = [
            str(d["factor"]),
            str(d["label"]),
            str(d["probes"]),
            str(d["skipped_would_need_enlarging"]),
            pct(d["detection_rate"]),
            pct(d["live_gate_pass_of_detected"]),
            pct(d["rank1"]),
            "not measurable" if fn.get("0.001") is None else pct(fn["0.001"]),
            "not measurable" if fn.get("1/6000") is None else pct(fn["1/6000"]),
            "—" if sm.get("fnir") is None else f"{pct(sm['fnir'])} at {sm['fpir']:.3g}",
        ]
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #999;padding:3px 8px;text-align:right}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<p>Gallery clean; every probe degraded (seeded) before detection. Live quality gate: "
        f"face >= {gate.min_size_px:g} px, detector score >= {gate.min_det_score:g}, sharpness >= "
        f"{gate.min_sharpness:g}, |yaw| <= {gate.max_abs_yaw_deg:g}°, |roll| <= {gate.max_abs_roll_deg:g}°.</p>",
        *(f"<p>{html.escape(n)}</p>" for n in notes),
        "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>",
        *rows,
        "</table>",
    ]
    for factor, png in pngs.items():
        b64 = base64.b64encode(png).decode("ascii")
        parts.append(
            f"<h2>{html.escape(factor)}</h2><img alt='{html.escape(factor)} sweep' src='data:image/png;base64,{b64}'>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


@dataclass(frozen=True, slots=True, eq=False)
class DegradeRun:
    sweep: Sweep
    data: dict[str, object]
    pngs: dict[str, bytes]
    html: str


def run_degrade(
    split: Split,
    engine: object,
    conditions: Sequence[Condition],
    gate: QualityGate,
    meta: Mapping[str, str],
    *,
    seed: int = 0,
    rank: int = 1,
    max_probes: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DegradeRun:
    """The whole ``overt eval identify --degrade`` run: clean gallery, degraded probes, report."""
    from overt.evaluation.run import engine_embed_fn
    from overt.vision.engine import FaceEngine

    if not isinstance(engine, FaceEngine):
        raise TypeError("run_degrade needs a FaceEngine")
    small = subsample(split, max_probes, seed)
    embed = engine_embed_fn(engine)
    gallery_cache = {r.path: embed(r.path) for r in small.enrol}
    sweep = run_sweep(
        small,
        gallery_cache,
        conditions,
        engine_probe_fn(engine, gate),
        engine.read,
        seed=seed,
        rank=rank,
        progress=progress,
    )
    notes = [
        f"{len(small.enrol)} enrolment images, {len(small.mated)} mated and {len(small.nonmated)} non-mated probes"
        + (f" (a seeded subsample of {len(split.mated)} + {len(split.nonmated)})" if small is not split else "")
        + f"; seed {seed}.",
        "Resolution: probes whose eyes are already closer than the target are left out of that condition "
        "(never enlarged); the shrunk image sits at the centre of a 640x480 frame.",
    ]
    factors = [f for f in FACTORS if any(c.factor == f for c in conditions)]
    title = f"Degradation sweep: {meta.get('detector_id', '?')} + {meta.get('model_id', '?')}"
    pngs: dict[str, bytes] = {f: factor_png(sweep, f, gate, title=f"{title}: {f}") for f in factors}
    data: dict[str, object] = {
        "meta": dict(meta),
        "notes": notes,
        "box_side_per_eye_px": _r(sweep.box_side_per_eye_px),
        "live_gate": {
            "min_size_px": gate.min_size_px,
            "min_det_score": gate.min_det_score,
            "min_sharpness": gate.min_sharpness,
            "max_abs_yaw_deg": gate.max_abs_yaw_deg,
            "max_abs_roll_deg": gate.max_abs_roll_deg,
        },
        "conditions": [r.to_json() for r in sweep.results],
    }
    return DegradeRun(sweep, data, pngs, sweep_html(sweep, pngs, title=title, gate=gate, notes=notes))
