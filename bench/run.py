"""``make bench``: engine speed per stage against the straightforward baseline; see BENCHMARKS.md.

Writes bench/results/engine.json and bench/results/engine.md (the table pasted into BENCHMARKS.md).
``--quick`` runs fewer rounds (a smoke run, not for reporting).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import engine as engine_bench  # noqa: E402


def _memory(which: str) -> dict[str, Any]:
    """Peak RSS of a fresh process that runs only ``which`` (engine or baseline)."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import engine; "
        "print(json.dumps(engine.memory_probe(sys.argv[2])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(BENCH_DIR), which], check=True, capture_output=True, text=True, timeout=300
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def markdown(data: dict[str, Any]) -> str:
    lines = [
        "| stage | unit | baseline median (p95, min) | engine median (p95, min) | speed-up (median) |",
        "|---|---|---:|---:|---:|",
    ]
    for r in data["results"]:
        lines.append(
            f"| {r['stage']} | {r['unit']} | {r['baseline_median_ms']:.2f} ({r['baseline_p95_ms']:.2f}, "
            f"{r['baseline_min_ms']:.2f}) | {r['engine_median_ms']:.2f} ({r['engine_p95_ms']:.2f}, "
            f"{r['engine_min_ms']:.2f}) | {r['speedup']:.2f}x |"
        )
    m = data["memory"]
    lines.append(
        f"| peak RSS, process running one frame + 32 faces | MiB | {m['baseline']['peak_rss_mb']:.0f} "
        f"| {m['engine']['peak_rss_mb']:.0f} | {m['baseline']['peak_rss_mb'] / m['engine']['peak_rss_mb']:.2f}x |"
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="fewer rounds (smoke run)")
    ap.add_argument("--out", type=Path, default=BENCH_DIR / "results", help="folder for engine.json / engine.md")
    args = ap.parse_args(argv)
    console = Console(stderr=True)
    t0 = time.perf_counter()
    with console.status("measuring peak RSS in fresh processes..."):
        memory = {"engine": _memory("engine"), "baseline": _memory("baseline")}
    with console.status("timing engine stages against the baseline..."):
        data = engine_bench.run(quick=args.quick)
    data["memory"] = memory
    data["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    data["bench_seconds"] = round(time.perf_counter() - t0, 1)
    data["quick"] = args.quick

    env = data["environment"]
    table = Table(title=f"Overt engine vs baseline ({data['frame']})")
    for col, just in (("stage", "left"), ("unit", "left"), ("baseline med / p95 / min", "right"),
                      ("engine med / p95 / min", "right"), ("speed-up", "right")):  # fmt: skip
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in data["results"]:
        table.add_row(
            r["stage"],
            r["unit"],
            f"{r['baseline_median_ms']:.2f} / {r['baseline_p95_ms']:.2f} / {r['baseline_min_ms']:.2f}",
            f"{r['engine_median_ms']:.2f} / {r['engine_p95_ms']:.2f} / {r['engine_min_ms']:.2f}",
            f"{r['speedup']:.2f}x",
        )
    out = Console()
    out.print(table)
    out.print(
        f"threads: ORT intra-op {env['engine_intra_op_threads']}, CPUs visible {env['cpus_visible']}, "
        f"load average at start {env['load_average_1m_at_start']}; onnxruntime {env['onnxruntime']}"
    )
    m = data["memory"]
    out.print(
        f"peak RSS (getrusage, fresh process, one frame + 32 faces): engine {m['engine']['peak_rss_mb']} MiB, "
        f"baseline {m['baseline']['peak_rss_mb']} MiB"
    )
    out.print(f"agreement: {data['agreement']}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "engine.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (args.out / "engine.md").write_text(markdown(data), encoding="utf-8")
    out.print(f"wrote {args.out / 'engine.json'} and engine.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
