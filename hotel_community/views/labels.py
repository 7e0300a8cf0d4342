"""Staff print shelf labels: choose placements, then a print-ready sheet or an A4 PDF."""
from __future__ import annotations

import io

from flask import Response, render_template, request, url_for

from hotel_community.services import labels, properties
from hotel_community.views import id_arg
from hotel_community.views.staff_auth import staff_required
from hotel_community.views.staff_base import current_property, staff_blueprint

bp = staff_blueprint("labels", __name__)

#: Labels shown on the selection page before printing.
PREVIEW = 12


def _selection(values) -> labels.Selection:
    """The filters of the form (query string or POST body), on the chosen property."""
    location = (values.get("location") or "").strip()[:60]
    return labels.selection(current_property(), product_id=id_arg(values, "product"),
                            location_prefix=location)


@bp.get("/")
@staff_required
def choose() -> str:
    chosen = _selection(request.args)
    prop = current_property()
    return render_template(
        "hotel_community/staff/labels.html", property=prop, chosen=chosen,
        properties=properties.list_properties(), products=labels.products_to_choose(prop),
        total=labels.count(chosen),
        preview=list(labels.labels(chosen, request.url_root, limit=PREVIEW)))


@bp.get("/sheet")
@staff_required
def sheet() -> str:
    chosen = _selection(request.args)
    return render_template("hotel_community/staff/label_sheet.html", property=current_property(),
                           labels=labels.labels(chosen, request.url_root),
                           per_page=labels.PER_PAGE,
                           back=url_for(".choose", **request.args))


@bp.post("/labels.pdf")
@staff_required
def pdf() -> Response:
    """A POST (CSRF-checked like every staff form) so a page elsewhere cannot start a big job."""
    out = io.BytesIO()
    labels.label_pdf(_selection(request.form), request.url_root, out)
    response = Response(out.getvalue(), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="labels-{current_property().code}.pdf"')
    return response


@bp.get("/placements/<hc_id:placement_id>.png")
@staff_required
def placement_png(placement_id: int) -> Response:
    placement = labels.get_placement(placement_id)
    return _download(labels.qr_png(placement, request.url_root), "image/png",
                     f"qr-{placement.code}.png")


@bp.get("/placements/<hc_id:placement_id>.svg")
@staff_required
def placement_svg(placement_id: int) -> Response:
    placement = labels.get_placement(placement_id)
    svg = '<?xml version="1.0" encoding="UTF-8"?>\n' + str(labels.qr_svg(placement, request.url_root))
    return _download(svg.encode(), "image/svg+xml", f"qr-{placement.code}.svg")


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response
