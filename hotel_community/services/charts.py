"""Small charts drawn on the server as inline SVG: no JavaScript, printable, accessible.

Each function returns the ``<svg>`` element as :class:`markupsafe.Markup`,
built with :mod:`xml.etree.ElementTree`, which escapes every text and
attribute: labels may hold any text. Every chart is ``role="img"`` with a
``<title>`` and a ``<desc>`` it is labelled by, and every bar or point has a
``<title>`` that browsers show as a tooltip.
"""
from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from typing import Sequence

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
BRAND, SECOND, GRID, INK, MUTED = "#1f6f5c", "#d08c2e", "#e3e6eb", "#1d2430", "#5d6776"
WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 34, 8, 26, 24


def bar_chart(labels: Sequence[str], values: Sequence[int], *, chart_id: str, title: str,
              unit: tuple[str, str], label_every: int = 7) -> Markup:
    """One bar per label; ``unit`` is the (singular, plural) noun of a value."""
    total = sum(values)
    svg = _svg(chart_id, title, f"{_count(total, unit)} in all; {_busiest(labels, values)}.")
    top = _axes(svg, labels, max(values, default=0), label_every)
    band = _band(len(labels))
    for index, (label, value) in enumerate(zip(labels, values)):
        bar = _bar(svg, index, value, top, band, BRAND)
        _sub(bar, "title").text = f"{label}: {_count(value, unit)}"
    return _markup(svg)


def bar_and_line_chart(labels: Sequence[str], bars: Sequence[int], line: Sequence[int], *,
                       chart_id: str, title: str, names: tuple[str, str],
                       label_every: int = 7) -> Markup:
    """``bars`` as bars and ``line`` as a line over them, with a legend (``names``)."""
    svg = _svg(chart_id, title, f"{names[0]}: {sum(bars)} in all; {names[1]}: {sum(line)} in all.")
    top = _axes(svg, labels, max([*bars, *line], default=0), label_every)
    band = _band(len(labels))
    _legend(svg, names)
    for index, (label, value, other) in enumerate(zip(labels, bars, line)):
        bar = _bar(svg, index, value, top, band, BRAND)
        _sub(bar, "title").text = f"{label}: {names[0]} {value}, {names[1]} {other}"
    points = [(_x_center(index, band), _y(value, top)) for index, value in enumerate(line)]
    _sub(svg, "polyline", fill="none", stroke=SECOND, **{"stroke-width": "2"},
         points=" ".join(f"{x:.1f},{y:.1f}" for x, y in points))
    for (x, y), label, value in zip(points, labels, line):
        dot = _sub(svg, "circle", cx=f"{x:.1f}", cy=f"{y:.1f}", r="3", fill=SECOND)
        _sub(dot, "title").text = f"{label}: {names[1]} {value}"
    return _markup(svg)


def progress_ring(share: float | None, *, chart_id: str, title: str, detail: str) -> Markup:
    """A ring filled to ``share`` (0..1; None when there is nothing to measure yet)."""
    size, radius, stroke = 120, 48, 14
    shown = "–" if share is None else f"{round(share * 100)}%"
    svg = _svg(chart_id, title, f"{shown}: {detail}", width=size, height=size)
    center = str(size // 2)
    _sub(svg, "circle", cx=center, cy=center, r=str(radius), fill="none", stroke=GRID,
         **{"stroke-width": str(stroke)})
    if share:
        length = 2 * math.pi * radius
        filled = min(max(share, 0.0), 1.0) * length
        dash = {"stroke-width": str(stroke), "stroke-dasharray": f"{filled:.2f} {length:.2f}"}
        arc = _sub(svg, "circle", cx=center, cy=center, r=str(radius), fill="none",
                   stroke=BRAND, transform=f"rotate(-90 {center} {center})", **dash)
        _sub(arc, "title").text = f"{shown}: {detail}"
    text = _sub(svg, "text", x=center, y=str(size // 2 + 7), fill=INK,
                **{"text-anchor": "middle", "font-size": "22", "font-weight": "700"})
    text.text = shown
    return _markup(svg)


def _svg(chart_id: str, title: str, description: str, width: int = WIDTH,
         height: int = HEIGHT) -> ET.Element:
    svg = ET.Element("svg", {
        "xmlns": SVG_NS, "viewBox": f"0 0 {width} {height}", "width": str(width),
        "height": str(height), "role": "img", "class": "chart", "id": chart_id,
        "aria-labelledby": f"{chart_id}-title {chart_id}-desc"})
    _sub(svg, "title", id=f"{chart_id}-title").text = title
    _sub(svg, "desc", id=f"{chart_id}-desc").text = description
    return svg


def _axes(svg: ET.Element, labels: Sequence[str], highest: int, label_every: int) -> int:
    """Grid lines, value labels and every ``label_every``-th day label; returns the scale top."""
    top = _nice_ceiling(highest)
    for value in (0, top // 2, top) if top >= 2 else (0, top):
        y = f"{_y(value, top):.1f}"
        _sub(svg, "line", x1=str(LEFT), x2=str(WIDTH - RIGHT), y1=y, y2=y, stroke=GRID)
        _text(svg, str(value), x=str(LEFT - 6), y=y, anchor="end", dy="0.35em")
    band = _band(len(labels))
    last = len(labels) - 1
    for index, label in enumerate(labels):
        if (last - index) % label_every == 0:
            # The outermost labels line up with the plot's edges, so none is cut off.
            anchor, x = ("end", LEFT + (index + 1) * band) if index == last and last else (
                ("start", LEFT + index * band) if index == 0 else
                ("middle", _x_center(index, band)))
            _text(svg, label, x=f"{x:.1f}", y=str(HEIGHT - 6), anchor=anchor)
    return top


def _bar(svg: ET.Element, index: int, value: int, top: int, band: float,
         colour: str) -> ET.Element:
    """A bar in a group with a full-height transparent target, so even 0 has a tooltip."""
    group = _sub(svg, "g")
    x = LEFT + index * band
    _sub(group, "rect", x=f"{x:.1f}", y=str(TOP), width=f"{band:.1f}",
         height=str(HEIGHT - TOP - BOTTOM), fill="transparent")
    y = _y(value, top)
    _sub(group, "rect", x=f"{x + band * 0.15:.1f}", y=f"{y:.1f}", width=f"{band * 0.7:.1f}",
         height=f"{HEIGHT - BOTTOM - y:.1f}", fill=colour, rx="2")
    return group


def _legend(svg: ET.Element, names: tuple[str, str]) -> None:
    for offset, (name, colour) in enumerate(zip(names, (BRAND, SECOND))):
        x = LEFT + offset * 180
        _sub(svg, "rect", x=str(x), y="6", width="12", height="12", fill=colour, rx="2")
        _text(svg, name, x=str(x + 18), y="12", anchor="start", dy="0.35em", fill=INK)


def _text(svg: ET.Element, content: str, *, anchor: str, fill: str = MUTED,
          **attributes: str) -> ET.Element:
    text = _sub(svg, "text", fill=fill, **{"text-anchor": anchor, "font-size": "11"},
                **attributes)
    text.text = content
    return text


def _sub(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    return ET.SubElement(parent, tag, attributes)


def _band(count: int) -> float:
    return (WIDTH - LEFT - RIGHT) / max(count, 1)


def _x_center(index: int, band: float) -> float:
    return LEFT + (index + 0.5) * band


def _y(value: int, top: int) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return HEIGHT - BOTTOM - (plot * value / top if top else 0)


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 4, 6, 8, 10, 20, 40... at or above ``value``: even, so the
    middle grid line falls on a whole number."""
    if value <= 1:
        return 1
    magnitude = 10 ** (len(str(value)) - 1)
    steps = (2, 4, 6, 8, 10) if magnitude == 1 else (1, 2, 4, 6, 8, 10)
    return next(step * magnitude for step in steps if step * magnitude >= value)


def _count(value: int, unit: tuple[str, str]) -> str:
    return f"{value} {unit[0] if value == 1 else unit[1]}"


def _busiest(labels: Sequence[str], values: Sequence[int]) -> str:
    if not values or max(values) == 0:
        return "none on any day"
    best = max(range(len(values)), key=lambda i: (values[i], i))
    return f"most on {labels[best]} ({values[best]})"


def _markup(svg: ET.Element) -> Markup:
    # ElementTree escapes every text and attribute value it writes.
    return Markup(ET.tostring(svg, encoding="unicode", short_empty_elements=True))
