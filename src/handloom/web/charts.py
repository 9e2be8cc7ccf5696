"""Small server-rendered SVG charts: a stacked bar, a labelled bar chart and a line chart.

No dependencies and no scripts. Every chart is an ``<svg role="img">`` whose ``<title>``
says what it shows and whose ``<desc>`` carries the numbers, so a screen reader (or a
person with images off) gets the data, not just a picture. Colours come from CSS classes
(``series-1``, ``seg-done`` …) because the Content-Security-Policy forbids inline styles;
the geometry is plain SVG presentation attributes.

Labels can be worker pseudonyms, category names or anything else a person typed: every
piece of text and every attribute value is escaped with :func:`markupsafe.escape` before it
goes into the markup.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

CHAR_WIDTH = 7.0  # rough width of one character of 12px text, in SVG user units
_CLASS = re.compile(r"[^A-Za-z0-9_ -]")


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: its name, its size and the CSS class that colours it."""

    label: str
    value: float
    css: str


def number(value: float) -> str:
    """A count as an integer, anything else with at most two decimals."""
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "0%"


def _css(name: str) -> str:
    return _CLASS.sub("", name)


def _f(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 1)] + "…"


def _open(chart_id: str, css: str, width: float, height: float, title: str, desc: str) -> str:
    cid = escape(chart_id)
    return (f'<svg class="chart {escape(_css(css))}" viewBox="0 0 {_f(width)} {_f(height)}" '
            f'role="img" aria-labelledby="{cid}-title {cid}-desc" '
            f'xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{cid}-title">{escape(title)}</title>'
            f'<desc id="{cid}-desc">{escape(desc)}</desc>')


def nice_step(maximum: float, count: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten, at least 1) so that *count* steps reach
    *maximum*."""
    if maximum <= 0:
        return 1.0
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        step = factor * power
        if step >= raw:
            return float(max(step, 1))
    return float(max(10 * power, 1))  # pragma: no cover - the loop always returns


def axis_ticks(maximum: float, count: int = 4) -> list[float]:
    """Tick values from 0 up to the first round value at or above *maximum*."""
    step = nice_step(maximum, count)
    top = step * max(math.ceil(maximum / step), 1)
    return [step * i for i in range(int(round(top / step)) + 1)]


# ------------------------------------------------------------------ stacked bar
def stacked_bar(segments: Sequence[Segment], *, chart_id: str, title: str,
                width: float = 600, height: float = 18) -> Markup:
    """One horizontal bar split into *segments* (e.g. done / in progress / waiting)."""
    total = sum(max(s.value, 0) for s in segments)
    parts = "; ".join(f"{s.label}: {number(s.value)} ({percent(s.value, total)})"
                      for s in segments)
    desc = f"{parts}; total {number(total)}." if segments else "No data."
    out = [_open(chart_id, "stacked-bar", width, height, title, desc)]
    out.append(f'<rect class="bar-track" x="0" y="0" width="{_f(width)}" '
               f'height="{_f(height)}" rx="3"/>')
    x = 0.0
    for s in segments:
        if s.value <= 0 or total <= 0:
            continue
        w = width * s.value / total
        out.append(f'<rect class="{escape(_css(s.css))}" x="{_f(x)}" y="0" width="{_f(w)}" '
                   f'height="{_f(height)}"><title>{escape(s.label)}: {number(s.value)} '
                   f'({percent(s.value, total)})</title></rect>')
        x += w
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text and attribute above is escaped


def legend(segments: Sequence[Segment]) -> Markup:
    """An HTML legend for a stacked bar: a colour swatch, the name and the number."""
    items = [f'<li><span class="swatch {escape(_css(s.css))}" aria-hidden="true"></span>'
             f'{escape(s.label)} <strong>{number(s.value)}</strong></li>' for s in segments]
    return Markup('<ul class="chart-legend">' + "".join(items) + "</ul>")  # noqa: S704


# ------------------------------------------------------------------ bar chart
def bar_chart(rows: Sequence[tuple[str, float]], *, chart_id: str, title: str,
              unit: str = "", width: float = 600, row_height: float = 22,
              label_limit: int = 32) -> Markup:
    """Horizontal bars, one per (label, value) row, the label left and the value right."""
    shown = [(_clip(label, label_limit), label, value) for label, value in rows]
    longest = max((len(short) for short, _, _ in shown), default=4)
    label_w = min(max(CHAR_WIDTH * longest + 12, 60), width / 2)
    value_w = CHAR_WIDTH * max((len(number(v)) for _, _, v in shown), default=1) + 10
    bar_area = max(width - label_w - value_w, 10)
    top = max((v for _, _, v in shown), default=0)
    height = max(row_height * len(shown), row_height) + 4
    suffix = f" {unit}" if unit else ""
    listed = "; ".join(f"{label}: {number(value)}{suffix}" for label, value in rows)
    desc = f"{len(rows)} bars. {listed}." if rows else "No data yet."
    out = [_open(chart_id, "bar-chart", width, height, title, desc)]
    out.append(f'<line class="axis" x1="{_f(label_w)}" y1="0" x2="{_f(label_w)}" '
               f'y2="{_f(height)}"/>')
    if not shown:
        out.append(f'<text class="empty" x="{_f(label_w + 8)}" y="{_f(row_height * 0.7)}">'
                   "No data yet</text>")
    for i, (short, label, value) in enumerate(shown):
        y = 2 + i * row_height
        w = bar_area * value / top if top > 0 else 0
        mid = y + row_height / 2
        out.append(f"<g><title>{escape(label)}: {number(value)}{escape(suffix)}</title>")
        out.append(f'<text class="bar-label" x="{_f(label_w - 6)}" y="{_f(mid + 4)}" '
                   f'text-anchor="end">{escape(short)}</text>')
        out.append(f'<rect class="series-1" x="{_f(label_w)}" y="{_f(y + 3)}" '
                   f'width="{_f(max(w, 0))}" height="{_f(row_height - 6)}"/>')
        out.append(f'<text class="bar-value" x="{_f(label_w + w + 4)}" y="{_f(mid + 4)}">'
                   f"{number(value)}</text></g>")
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text and attribute above is escaped


# ------------------------------------------------------------------ line chart
def line_chart(points: Sequence[tuple[str, float]], *, chart_id: str, title: str,
               x_ticks: Sequence[tuple[int, str]] | None = None, unit: str = "",
               width: float = 640, height: float = 220) -> Markup:
    """A line through (label, value) points with a y axis of round ticks and a few x labels.

    *x_ticks* are (point index, label) pairs to print under the x axis; by default about six
    evenly spaced point labels.
    """
    left, right, top_pad, bottom = 44.0, 14.0, 12.0, 30.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    values = [v for _, v in points]
    ticks = axis_ticks(max(values, default=0))
    ymax = ticks[-1]
    n = len(points)

    def x_of(i: int) -> float:
        return left + (plot_w / 2 if n <= 1 else plot_w * i / (n - 1))

    def y_of(v: float) -> float:
        return top_pad + plot_h - (plot_h * v / ymax if ymax else 0)

    suffix = f" {unit}" if unit else ""
    if points:
        total = sum(values)
        peak = max(range(n), key=lambda i: values[i])
        nonzero = [f"{label}: {number(v)}" for label, v in points if v]
        listed = "; ".join(nonzero) if nonzero else "none"
        rest = " All others 0." if len(nonzero) < n else ""
        desc = (f"{n} points from {points[0][0]} to {points[-1][0]}. Total {number(total)}"
                f"{suffix}; highest {number(values[peak])} at {points[peak][0]}. "
                f"Non-zero values: {listed}.{rest}")
    else:
        desc = "No data yet."
    out = [_open(chart_id, "line-chart", width, height, title, desc)]
    for t in ticks:
        y = y_of(t)
        out.append(f'<line class="grid" x1="{_f(left)}" y1="{_f(y)}" x2="{_f(width - right)}" '
                   f'y2="{_f(y)}"/>')
        out.append(f'<text class="tick" x="{_f(left - 6)}" y="{_f(y + 4)}" '
                   f'text-anchor="end">{number(t)}</text>')
    out.append(f'<line class="axis" x1="{_f(left)}" y1="{_f(top_pad)}" x2="{_f(left)}" '
               f'y2="{_f(top_pad + plot_h)}"/>')
    out.append(f'<line class="axis" x1="{_f(left)}" y1="{_f(top_pad + plot_h)}" '
               f'x2="{_f(width - right)}" y2="{_f(top_pad + plot_h)}"/>')
    if x_ticks is None:
        every = max(math.ceil(n / 6), 1)
        x_ticks = [(i, points[i][0]) for i in range(0, n, every)]
    for i, label in x_ticks:
        if 0 <= i < n:
            anchor = "start" if n > 1 and i == 0 else "end" if n > 1 and i == n - 1 else "middle"
            out.append(f'<line class="axis" x1="{_f(x_of(i))}" y1="{_f(top_pad + plot_h)}" '
                       f'x2="{_f(x_of(i))}" y2="{_f(top_pad + plot_h + 4)}"/>')
            out.append(f'<text class="tick" x="{_f(x_of(i))}" y="{_f(height - 10)}" '
                       f'text-anchor="{anchor}">{escape(label)}</text>')
    if points:
        coords = " ".join(f"{_f(x_of(i))},{_f(y_of(v))}" for i, v in enumerate(values))
        out.append(f'<polyline class="series-1 line" points="{coords}"/>')
        for i, (label, v) in enumerate(points):
            out.append(f'<circle class="series-1 dot" cx="{_f(x_of(i))}" cy="{_f(y_of(v))}" '
                       f'r="{2.5 if v else 1.5}"><title>{escape(label)}: {number(v)}'
                       f"{escape(suffix)}</title></circle>")
    else:
        out.append(f'<text class="empty" x="{_f(left + 8)}" y="{_f(top_pad + plot_h / 2)}">'
                   "No data yet</text>")
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text and attribute above is escaped
