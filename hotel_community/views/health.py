"""Community health for staff: the figures of the last 30 days, as numbers and SVG charts."""
from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from hotel_community.services import charts, health, properties
from hotel_community.views.staff_auth import staff_required
from hotel_community.views.staff_base import current_property, staff_blueprint

bp = staff_blueprint("health", __name__)


@bp.get("/")
@staff_required
def overview() -> str:
    prop = current_property()
    figures = health.community_health(prop)
    return render_template("hotel_community/staff/health.html", property=prop, health=figures,
                           charts=_charts(figures), properties=properties.list_properties())


def _charts(figures: health.Health) -> dict[str, Markup]:
    labels = [day.strftime("%a %d %b") for day in figures.days]
    return {
        "opted_in": charts.progress_ring(
            figures.opted_in_share, chart_id="chart-opted-in",
            title="In-house guests who chose to be visible",
            detail=f"{figures.opted_in} of {figures.in_house} in-house guests"),
        "posts": charts.bar_chart(
            labels, figures.posts, chart_id="chart-posts", title="Posts per day",
            unit=("post", "posts")),
        "introductions": charts.bar_and_line_chart(
            labels, figures.introductions, figures.accepted, chart_id="chart-introductions",
            title="Introductions made and accepted per day", names=("made", "accepted")),
    }
