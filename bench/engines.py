"""Default vs licence-clean engine speed, interleaved in one process (ratios are the robust figure).

Detection: a 1280x720 frame holding the team photo (players.jpg), detector at its default input.
Embedding: 16 aligned faces per batch. Median of ``--rounds`` rounds, engines alternating.

    python bench/engines.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

import cv2
import numpy as np

from overt.config import ArcFaceEmbedderConfig, EngineConfig, YuNetDetectorConfig, build_engine
from overt.samples import sample_image
from overt.vision.imageio import read_image


def _ms(fn: Callable[[], object], reps: int) -> float:
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    engines = {
        "default (SCRFD + ArcFace)": build_engine(),
        "licence-clean (YuNet + SFace)": build_engine(
            EngineConfig(detector=YuNetDetectorConfig(), embedder=ArcFaceEmbedderConfig(model_id="sface_2021dec"))
        ),
    }
    team = read_image(sample_image("players"))
    frame = np.full((720, 1280, 3), 127, np.uint8)
    h, w = team.shape[:2]
    s = min(720 / h, 1280 / w)
    small = cv2.resize(team, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
    frame[: small.shape[0], : small.shape[1]] = small
    crops = {}
    for name, e in engines.items():
        d = e.detect(frame)
        crops[name] = [e.embedder.align(frame, d.xyxy[i % len(d)], d.landmarks5[i % len(d)]) for i in range(16)]
        e.embedder.embed(crops[name])
    det: dict[str, list[float]] = {n: [] for n in engines}
    emb: dict[str, list[float]] = {n: [] for n in engines}
    for _ in range(args.rounds):
        for name, e in engines.items():
            det[name].append(_ms(partial(e.detect, frame), 3))
            emb[name].append(_ms(partial(e.embedder.embed, crops[name]), 1) / 16)
    base = next(iter(engines))
    print(
        "| engine | faces found in the 720p frame | detection ms/frame | embedding ms/face | vs default (det / emb) |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, e in engines.items():
        dm, em = statistics.median(det[name]), statistics.median(emb[name])
        rd = dm / statistics.median(det[base])
        re_ = em / statistics.median(emb[base])
        print(f"| {name} | {len(e.detect(frame))} | {dm:.1f} | {em:.1f} | {rd:.2f}x / {re_:.2f}x |")


if __name__ == "__main__":
    main()
