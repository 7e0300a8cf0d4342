"""Server-side SVG charts: well-formed, accessible, and every text escaped."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from markupsafe import Markup

from hotel_community.services import charts

NS = {"svg": charts.SVG_NS}
NASTY = '<script>alert("x")</script> & \'quotes\''


def parse(svg: Markup) -> ET.Element:
    assert isinstance(svg, Markup)
    return ET.fromstring(str(svg))


def titles(root: ET.Element) -> list[str]:
    return [t.text for t in root.iter(f"{{{charts.SVG_NS}}}title")]


def check_accessible(root: ET.Element, chart_id: str, title: str) -> None:
    assert root.tag == f"{{{charts.SVG_NS}}}svg"
    assert root.get("role") == "img" and root.get("id") == chart_id
    labelled_by = root.get("aria-labelledby").split()
    assert labelled_by == [f"{chart_id}-title", f"{chart_id}-desc"]
    assert root.find("svg:title", NS).get("id") == labelled_by[0]
    assert root.find("svg:title", NS).text == title
    assert root.find("svg:desc", NS).get("id") == labelled_by[1]
    assert root.find("svg:desc", NS).text


def test_a_bar_chart_has_a_bar_and_a_tooltip_per_day():
    labels = [f"Day {n}" for n in range(1, 31)]
    values = [n % 4 for n in range(30)]
    root = parse(charts.bar_chart(labels, values, chart_id="posts", title="Posts per day",
                                  unit=("post", "posts")))

    check_accessible(root, "posts", "Posts per day")
    tooltips = titles(root)[1:]
    assert len(tooltips) == 30
    assert tooltips[0] == "Day 1: 0 posts" and tooltips[1] == "Day 2: 1 post"
    assert "43 posts in all; most on Day 28 (3)." == root.find("svg:desc", NS).text
    bars = [g.findall("svg:rect", NS)[1] for g in root.findall("svg:g", NS)]
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[0] == 0 and heights[3] == max(heights)  # scale: 3 -> top of 4
    assert heights[1] == pytest.approx(heights[3] / 3)
    axis = {t.text: t for t in root.iter(f"{{{charts.SVG_NS}}}text")}
    assert [name for name in axis if name.startswith("Day")] == [
        "Day 2", "Day 9", "Day 16", "Day 23", "Day 30"]  # every 7th, ending today
    assert axis["Day 30"].get("text-anchor") == "end"  # flush right: never cut off
    assert float(axis["Day 30"].get("x")) <= charts.WIDTH - charts.RIGHT
    assert [axis[v].get("y") for v in ("0", "2", "4")]  # grid labels 0, middle, top


def test_every_text_is_escaped():
    svg = charts.bar_chart([NASTY, "b"], [1, 2], chart_id="c", title=NASTY, unit=(NASTY, NASTY))
    assert "<script>" not in str(svg)
    root = parse(svg)
    assert root.find("svg:title", NS).text == NASTY
    assert titles(root)[1] == f"{NASTY}: 1 {NASTY}"
    line = charts.bar_and_line_chart([NASTY], [1], [1], chart_id="l", title=NASTY,
                                     names=(NASTY, NASTY), label_every=1)
    assert "<script>" not in str(line)
    assert NASTY in [t.text for t in parse(line).iter(f"{{{charts.SVG_NS}}}text")]
    ring = charts.progress_ring(0.5, chart_id="r", title=NASTY, detail=NASTY)
    assert "<script>" not in str(ring) and parse(ring).find("svg:title", NS).text == NASTY


def test_a_chart_id_cannot_break_out_of_its_attribute():
    svg = charts.bar_chart(["a"], [1], chart_id='x" onload="alert(1)', title="t",
                           unit=("post", "posts"))
    root = parse(svg)
    assert root.get("onload") is None and root.get("id") == 'x" onload="alert(1)'


def test_an_empty_month_draws_without_dividing_by_zero():
    root = parse(charts.bar_chart(["a", "b"], [0, 0], chart_id="z", title="Nothing",
                                  unit=("post", "posts")))
    assert root.find("svg:desc", NS).text == "0 posts in all; none on any day."
    assert parse(charts.bar_chart([], [], chart_id="e", title="Empty", unit=("x", "xs")))


def test_the_bar_and_line_chart_has_both_series_and_a_legend():
    labels = ["Mon", "Tue", "Wed"]
    root = parse(charts.bar_and_line_chart(labels, [3, 0, 5], [1, 0, 2], chart_id="intro",
                                           title="Introductions", names=("made", "accepted")))

    check_accessible(root, "intro", "Introductions")
    assert root.find("svg:desc", NS).text == "made: 8 in all; accepted: 3 in all."
    points = root.find("svg:polyline", NS).get("points").split()
    assert len(points) == 3
    dots = root.findall("svg:circle", NS)
    assert [d.find("svg:title", NS).text for d in dots] == [
        "Mon: accepted 1", "Tue: accepted 0", "Wed: accepted 2"]
    bars = [g.find("svg:title", NS).text for g in root.findall("svg:g", NS)]
    assert bars == ["Mon: made 3, accepted 1", "Tue: made 0, accepted 0",
                    "Wed: made 5, accepted 2"]
    legend = [t.text for t in root.iter(f"{{{charts.SVG_NS}}}text")]
    assert "made" in legend and "accepted" in legend


@pytest.mark.parametrize("share, shown, arc", [(0.42, "42%", True), (1.0, "100%", True),
                                               (0.0, "0%", False), (None, "–", False)])
def test_the_progress_ring(share, shown, arc):
    root = parse(charts.progress_ring(share, chart_id="ring", title="Visible",
                                      detail="21 of 50 in-house guests"))
    check_accessible(root, "ring", "Visible")
    assert root.find("svg:text", NS).text == shown
    assert root.find("svg:desc", NS).text == f"{shown}: 21 of 50 in-house guests"
    circles = root.findall("svg:circle", NS)
    assert len(circles) == (2 if arc else 1)
    if arc:
        filled, whole = map(float, circles[1].get("stroke-dasharray").split())
        assert filled / whole == pytest.approx(share, abs=0.001)


@pytest.mark.parametrize("value, top", [(0, 1), (1, 1), (2, 2), (3, 4), (5, 6), (7, 8),
                                        (9, 10), (10, 10), (11, 20), (43, 60), (99, 100),
                                        (101, 200), (850, 1000)])
def test_the_scale_ends_on_a_round_number(value, top):
    assert charts._nice_ceiling(value) == top
