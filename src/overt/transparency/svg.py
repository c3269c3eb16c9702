"""Inline SVG for the public pages: a geofence outline and bar charts (no scripts, no external files).

Every drawing carries ``role="img"`` and a text alternative; the numbers are also in a table.
"""

from __future__ import annotations

import math
from html import escape

INK = "#1a1a1a"
COLOURS = ("#1b5e20", "#b71c1c", "#4a4a4a", "#0d47a1", "#6a1b9a", "#e65100")


def geofence_svg(points: tuple[tuple[float, float], ...], label: str, size_px: int = 240) -> str:
    """The polygon of (latitude, longitude) vertices, north up, drawn to scale in a square."""
    lat0 = sum(p[0] for p in points) / len(points)
    k = math.cos(math.radians(lat0))
    xs = [lon * k for _, lon in points]
    ys = [-lat for lat, _ in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    pad = 12
    scale = (size_px - 2 * pad) / span
    pts = " ".join(
        f"{pad + (x - min(xs)) * scale:.1f},{pad + (y - min(ys)) * scale:.1f}" for x, y in zip(xs, ys, strict=True)
    )
    t = escape(label)
    return (
        f'<svg class="geofence" viewBox="0 0 {size_px} {size_px}" width="{size_px}" height="{size_px}" '
        f'role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg"><title>{t}</title>'
        f'<rect x="1" y="1" width="{size_px - 2}" height="{size_px - 2}" fill="#ffffff" stroke="#767676"/>'
        f'<polygon points="{pts}" fill="#e3f2fd" stroke="{COLOURS[3]}" stroke-width="3"/>'
        f'<text x="{size_px - 8}" y="20" text-anchor="end" font-size="14" fill="{INK}">N ↑</text></svg>'
    )


def bar_chart_svg(title: str, bars: list[tuple[str, int]], width_px: int = 320) -> str:
    """Horizontal bars with their values written beside them (readable without colour)."""
    row = 28
    label_w = 130
    height = row * len(bars) + 8
    top = max([v for _, v in bars] + [1])
    t = escape(title)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width_px} {height}" width="100%" role="img" aria-label="{t}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{t}</title>'
    ]
    for i, (label, value) in enumerate(bars):
        y = 4 + i * row
        w = (width_px - label_w - 50) * value / top
        parts.append(
            f'<text x="0" y="{y + 18}" font-size="14" fill="{INK}">{escape(label)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 10}" fill="{COLOURS[i % len(COLOURS)]}"/>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 18}" font-size="14" fill="{INK}">{value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
