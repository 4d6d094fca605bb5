"""Bar charts as inline SVG, drawn on the server: no script and no style attribute (the
Content-Security-Policy allows neither inline), text in the page's own font, each bar with
its value as a `<title>` for the screen reader and the hover. Plain data in, markup out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]
    css: str  # the class that colours its bars (static CSS)


def grouped_bars_svg(
    *, title: str, categories: Sequence[str], series: Sequence[Series], unit: str = ""
) -> SafeString:
    """One group of bars per category, one bar per series, scaled to the largest value."""
    width, height, left, bottom, top = 640, 220, 56, 36, 24
    plot_w, plot_h = width - left - 8, height - top - bottom
    peak = max([v for s in series for v in s.values] + [1])
    group = plot_w / max(len(categories), 1)
    bar = min(28.0, group * 0.8 / max(len(series), 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'class="chart" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - 8}" '
        f'y2="{top + plot_h}"/>',
        f'<text class="tick" x="{left - 4}" y="{top + 4}" text-anchor="end">'
        f"{peak:,}{escape(unit)}</text>",
        f'<text class="tick" x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for i, category in enumerate(categories):
        x0 = left + i * group + (group - bar * len(series)) / 2
        for j, s in enumerate(series):
            value = s.values[i]
            h = plot_h * value / peak
            x, y = x0 + j * bar, top + plot_h - h
            parts.append(
                f'<rect class="{escape(s.css)}" x="{x:.1f}" y="{y:.1f}" width="{bar - 2:.1f}" '
                f'height="{h:.1f}"><title>{escape(category)} {escape(s.label)} '
                f"{value:,}{escape(unit)}</title></rect>"
            )
        parts.append(
            f'<text class="tick" x="{left + i * group + group / 2:.1f}" '
            f'y="{top + plot_h + 16}" text-anchor="middle">{escape(category)}</text>'
        )
    x = left
    for s in series:
        parts.append(f'<rect class="{escape(s.css)}" x="{x}" y="4" width="10" height="10"/>')
        parts.append(f'<text class="tick" x="{x + 14}" y="13">{escape(s.label)}</text>')
        x += 14 + 14 * len(s.label) + 12
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  every text above is escaped
