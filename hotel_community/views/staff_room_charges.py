"""Staff page of room charges: what the front desk must post by hand, and how the rest stands."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from hotel_community.errors import Conflict
from hotel_community.services import products, properties, room_charges
from hotel_community.settings import config_value
from hotel_community.views.staff_auth import staff_required
from hotel_community.views.staff_base import current_property, staff_blueprint, staff_name

bp = staff_blueprint("staff_room_charges", __name__)


@bp.get("")
@staff_required
def queue() -> str:
    prop = current_property()
    return render_template("hotel_community/staff/room_charges.html", property=prop,
                           charges=room_charges.overview(prop, config_value("PAGE_SIZE")),
                           properties=properties.list_properties(), price=products.format_price)


@bp.post("/<hc_id:charge_id>/posted")
@staff_required
def posted_by_hand(charge_id: int) -> Response:
    charge = room_charges.charge_of(current_property(), charge_id)
    try:
        room_charges.mark_posted_by_desk(charge.id, f"staff:{staff_name()}")
    except Conflict as error:
        flash(str(error.message), "error")
    else:
        flash(f"Marked as posted by hand (room {charge.room or '-'}).", "success")
    return redirect(url_for(".queue"))
