"""How a published figure is written in a report: cells, shares, money, hours, days, and the
report's one chart of its own, a histogram of a per-worker distribution with reference lines.

A suppressed :class:`~handloom.disclose.facts.Cell` is always written as "fewer than k
workers" with the number k, never as a value, a dash or a zero: a reader must be able to
tell "not published to protect people" from "none". The histogram draws only the bins a
:class:`~handloom.disclose.facts.Histogram` carries, which gather built so that each holds at
least k workers. Every text and attribute value is escaped (:func:`markupsafe.escape`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from handloom.disclose.facts import Cell, Histogram
from handloom.web.charts import axis_ticks, number

NOT_RECORDED = "not recorded"


def suppressed_text(k: int) -> str:
    return f"fewer than {k} workers"


def share_text(value: float) -> str:
    """A share (0..1) as a percentage: whole percents, one decimal near 0 and 100."""
    pct = 100 * float(value)
    if 0 < pct < 1 or 99 < pct < 100:
        return f"{pct:.1f}%"
    return f"{pct:.0f}%"


def hours_text(value: float) -> str:
    return f"{float(value):.2f} h"


def days_text(value: float) -> str:
    v = float(value)
    return f"{v:.1f} days" if v != 1 else "1 day"


def money_text(value: Any, currency: str) -> str:
    return f"{currency} {value}"


def count_text(value: Any) -> str:
    return number(float(value)) if isinstance(value, int | float) else str(value)


def figure_text(c: Cell, k: int, fmt: Callable[[Any], str] = count_text,
                empty: str = NOT_RECORDED) -> str:
    """A cell as text: suppressed -> "fewer than k workers"; no value -> *empty*."""
    if c.suppressed:
        return suppressed_text(k)
    if c.value is None:
        return empty
    return fmt(c.value)


def published(c: Cell) -> bool:
    """Whether a cell carries a value a reader (or a scorecard rule) may use."""
    return not c.suppressed and c.value is not None


# ------------------------------------------------------------------ histogram chart
def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def edge_text(value: float, unit: str) -> str:
    """A bin edge or a mark in its unit: shares as percentages, money per hour with cents."""
    if unit == "share":
        return share_text(value)
    if unit.endswith("/h"):
        return f"{value:.2f}"
    return number(round(value, 2))


def histogram_svg(hist: Histogram, *, chart_id: str, title: str, width: float = 640,
                  height: float = 240) -> Markup:
    """Columns over the value axis, one per bin (its width the bin's range, its height the
    workers in it), with each reference mark (e.g. a jurisdiction's pay floor) drawn as a
    dashed vertical line and labelled. The ``<desc>`` lists every bin and mark."""
    bins = hist.bins
    marks = list(hist.marks)
    label_rows = min(len(marks), 4)
    left, right, top, bottom = 44.0, 16.0, 14.0 + 13.0 * label_rows, 34.0
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [b.lo for b in bins] + [b.hi for b in bins] + [v for _, v in marks]
    lo = min(values, default=0.0)
    hi = max(values, default=1.0)
    if hi <= lo:
        hi = lo + 1.0
    pad = (hi - lo) * 0.03
    lo_d, hi_d = lo - pad, hi + pad
    if min((b.lo for b in bins), default=0.0) >= 0 and lo_d < 0:
        lo_d = 0.0
    ticks = axis_ticks(max((b.count for b in bins), default=0))
    ymax = ticks[-1] or 1.0

    def x_of(v: float) -> float:
        return left + plot_w * (v - lo_d) / (hi_d - lo_d)

    def y_of(n: float) -> float:
        return top + plot_h - plot_h * n / ymax

    unit = hist.unit
    shown_unit = "" if unit == "share" else f" {unit}"
    listed = "; ".join(f"{edge_text(b.lo, unit)} to {edge_text(b.hi, unit)}{shown_unit}: "
                       f"{b.count} workers" for b in bins)
    marked = "; ".join(f"{name} at {edge_text(v, unit)}{shown_unit}" for name, v in marks)
    desc = (f"{len(bins)} groups of workers by {unit}. {listed}."
            + (f" Reference lines: {marked}." if marks else "")) if bins else "No data."
    cid = escape(chart_id)
    out = [f'<svg class="chart histogram" viewBox="0 0 {_f(width)} {_f(height)}" role="img" '
           f'aria-labelledby="{cid}-title {cid}-desc">'
           f'<title id="{cid}-title">{escape(title)}</title>'
           f'<desc id="{cid}-desc">{escape(desc)}</desc>']
    for t in ticks:
        y = y_of(t)
        out.append(f'<line class="grid" x1="{_f(left)}" y1="{_f(y)}" x2="{_f(width - right)}" '
                   f'y2="{_f(y)}"/>')
        out.append(f'<text class="tick" x="{_f(left - 6)}" y="{_f(y + 4)}" '
                   f'text-anchor="end">{number(t)}</text>')
    base = top + plot_h
    out.append(f'<line class="axis" x1="{_f(left)}" y1="{_f(top)}" x2="{_f(left)}" '
               f'y2="{_f(base)}"/>')
    out.append(f'<line class="axis" x1="{_f(left)}" y1="{_f(base)}" x2="{_f(width - right)}" '
               f'y2="{_f(base)}"/>')
    for b in bins:
        x0, x1 = x_of(b.lo), x_of(b.hi)
        y = y_of(b.count)
        w = max(x1 - x0 - 1.0, 1.0)
        span = f"{edge_text(b.lo, unit)} to {edge_text(b.hi, unit)}{shown_unit}"
        out.append(f"<g class=\"bin\"><title>{escape(span)}: {b.count} workers</title>")
        out.append(f'<rect class="series-1 bar" x="{_f(x0 + 0.5)}" y="{_f(y)}" '
                   f'width="{_f(w)}" height="{_f(max(base - y, 0.0))}"/>')
        out.append(f'<text class="bar-value" x="{_f((x0 + x1) / 2)}" y="{_f(y - 4)}" '
                   f'text-anchor="middle">{b.count}</text></g>')
    edges = sorted({b.lo for b in bins} | {b.hi for b in bins})
    every = max(math.ceil(len(edges) / 8), 1)
    for i, e in enumerate(edges):
        if i % every and i != len(edges) - 1:
            continue
        x = x_of(e)
        tick = share_text(e) if unit == "share" else number(round(e, 2))
        out.append(f'<line class="axis" x1="{_f(x)}" y1="{_f(base)}" x2="{_f(x)}" '
                   f'y2="{_f(base + 4)}"/>')
        out.append(f'<text class="tick" x="{_f(x)}" y="{_f(base + 16)}" '
                   f'text-anchor="middle">{escape(tick)}</text>')
    out.append(f'<text class="tick" x="{_f(width - right)}" y="{_f(height - 4)}" '
               f'text-anchor="end">{escape(unit)}</text>')
    for i, (name, v) in enumerate(marks):
        x = x_of(v)
        row = i % 4
        label_y = 12.0 + 13.0 * row
        anchor = "end" if x > left + plot_w * 0.7 else "start"
        dx = -4 if anchor == "end" else 4
        out.append(f"<g class=\"mark\"><title>{escape(name)}: {escape(edge_text(v, unit))}"
                   f"{escape(shown_unit)}</title>")
        out.append(f'<line class="mark-line" x1="{_f(x)}" y1="{_f(label_y + 2)}" '
                   f'x2="{_f(x)}" y2="{_f(base)}"/>')
        out.append(f'<text class="mark-label" x="{_f(x + dx)}" y="{_f(label_y)}" '
                   f'text-anchor="{anchor}">{escape(name)} {escape(edge_text(v, unit))}</text></g>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every text and attribute above is escaped
