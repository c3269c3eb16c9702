"""Cost of the stream-integrity checks per frame, as a ratio of decoding the same frame.

    python bench/integrity.py [CLIP]     (default: a dev-data talking-head clip, else synthetic)

Baseline in the same process: decoding every frame of the clip (FileSource). Then the same
frames through ``IntegrityMonitor.observe_frame``. Short: one clip, one pass.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from overt.sources import open_source
from overt.sources.integrity import IntegrityMonitor


def main() -> None:
    default = Path(__file__).resolve().parents[1].parent / "shared/dev-data/videos/talking_heads/d10.mp4"
    clip = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    src = open_source(str(clip))
    t0 = time.perf_counter()
    src.start()
    frames = []
    while True:
        f = src.read(5.0)
        if f is None:
            if src.stats().exhausted:
                break
            continue
        frames.append(f)
    src.close()
    decode_s = time.perf_counter() - t0
    monitor = IntegrityMonitor("cam-1", live=False)
    t0 = time.perf_counter()
    for f in frames:
        monitor.observe_frame(f)
    check_s = time.perf_counter() - t0
    h, w = frames[0].image.shape[:2]
    n = len(frames)
    print(f"{clip.name}: {n} frames {w}x{h}")
    print(f"decode {1000 * decode_s / n:.2f} ms/frame; integrity checks {1000 * check_s / n:.2f} ms/frame")
    print(f"ratio checks/decode = {check_s / decode_s:.2f}; flags raised: {monitor.status().active or 'none'}")


if __name__ == "__main__":
    main()
