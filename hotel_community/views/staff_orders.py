"""Staff pages of the shop's orders: the list with filters, sales and CSV; one order, its steps."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Response, flash, render_template, request, stream_with_context, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.utils import secure_filename
from wtforms import BooleanField, StringField
from wtforms.validators import DataRequired, Length

from hotel_community.errors import Conflict, PaymentProviderError, ValidationFailed
from hotel_community.models import OrderStatus
from hotel_community.services import charts, orders, properties, staff_orders
from hotel_community.services.access import today_at
from hotel_community.services.products import format_price, minor_to_decimal
from hotel_community.views import id_arg
from hotel_community.views.staff_auth import staff_required
from hotel_community.views.staff_base import back_to, current_property, staff_blueprint, staff_name

bp = staff_blueprint("staff_orders", __name__)

#: What an order step may refuse with; shown as a message on the page it came from.
REFUSALS = (Conflict, ValidationFailed, PaymentProviderError)


class RefundForm(FlaskForm):
    amount = StringField("Amount", validators=[DataRequired(), Length(max=20)],
                         description="e.g. 12.50")
    restock = BooleanField("Put the items back in stock (when this refunds the rest in full)")


@bp.get("", endpoint="list")
@staff_required
def order_list() -> str | Response:
    prop = current_property()
    filters = _filters()
    if request.args.get("format") == "csv":
        return _csv(prop, filters)
    days = 14 if request.args.get("days") == "14" else 30
    sales = staff_orders.sales(prop, days)
    page = staff_orders.list_orders(prop, filters, before=id_arg(request.args, "before"))
    return render_template(
        "hotel_community/staff/orders.html", property=prop, filters=filters, page=page,
        sales=sales, chart=_sales_chart(sales), counts=staff_orders.count_by_status(prop),
        providers=staff_orders.provider_choices(), deliveries=staff_orders.DELIVERY_TEXT,
        statuses=staff_orders.STATUS_TEXT, properties=properties.list_properties(),
        **_readers(prop))


@bp.get("/<hc_id:order_id>")
@staff_required
def detail(order_id: int) -> str:
    prop = current_property()
    order = staff_orders.order_of(prop, order_id)
    remaining = staff_orders.remaining(order)
    form = RefundForm(formdata=None, amount=str(minor_to_decimal(remaining, order.currency)))
    return render_template("hotel_community/staff/order_detail.html", property=prop, order=order,
                           remaining=remaining, refund_form=form,
                           ticket=staff_orders.ticket_of(order),
                           desk_provider=orders.DESK_PROVIDER, **_readers(prop))


@bp.post("/<hc_id:order_id>/pay")
@staff_required
def pay(order_id: int) -> Response:
    prop = current_property()
    if _attempt(lambda: staff_orders.take_desk_payment(prop, order_id, _actor())):
        flash(f"Order #{order_id} is paid (at the desk).", "success")
    return back_to(url_for(".detail", order_id=order_id))


@bp.post("/<hc_id:order_id>/fulfil")
@staff_required
def fulfil(order_id: int) -> Response:
    prop = current_property()
    if _attempt(lambda: staff_orders.fulfil(prop, order_id, _actor())):
        flash(f"Order #{order_id} is fulfilled.", "success")
    return back_to(url_for(".detail", order_id=order_id))


@bp.post("/<hc_id:order_id>/cancel")
@staff_required
def cancel(order_id: int) -> Response:
    prop = current_property()
    order = _attempt(lambda: staff_orders.cancel(prop, order_id, _actor()))
    if order:
        refunded = (f"; {format_price(order.refunded, order.currency)} refunded"
                    if order.refunded else "")
        flash(f"Order #{order_id} is cancelled{refunded}, and its items are back in stock.",
              "success")
    return back_to(url_for(".detail", order_id=order_id))


@bp.post("/<hc_id:order_id>/refund")
@staff_required
def refund(order_id: int) -> Response:
    prop = current_property()
    form = RefundForm()
    done = _attempt(lambda: staff_orders.refund(prop, order_id, form.amount.data or "", _actor(),
                                                restock=form.restock.data))
    if done:
        order, amount = done
        flash(f"Refunded {format_price(amount, order.currency)} on order #{order_id}.", "success")
    return back_to(url_for(".detail", order_id=order_id))


# --------------------------------------------------------------------------- helpers

def _filters() -> staff_orders.OrderFilters:
    """The list's filters from the query string; a value that makes no sense filters nothing."""
    statuses = {status.value: status for status in OrderStatus}
    return staff_orders.OrderFilters(
        status=statuses.get(request.args.get("status", "")),
        provider=_choice_arg("provider", dict(staff_orders.provider_choices())),
        delivery=_choice_arg("delivery", staff_orders.DELIVERY_TEXT),
        date_from=_date_arg("from"), date_to=_date_arg("to"),
        search=request.args.get("q", "").strip()[:100])


def _choice_arg(name: str, choices: dict[str, str]) -> str:
    value = request.args.get(name, "")
    return value if value in choices else ""


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


def _readers(prop: Any) -> dict[str, Callable[..., Any]]:
    """How the templates write an order's parts."""
    def when(moment: Any) -> str:
        local = staff_orders.local_time(prop, moment)
        return local.strftime("%Y-%m-%d %H:%M") if local else ""
    return {"price": format_price, "when": when, "status_text": staff_orders.status_text,
            "delivery_text": staff_orders.delivery_text, "guest_name": staff_orders.guest_name,
            "provider_label": staff_orders.provider_label}


def _sales_chart(sales: staff_orders.Sales) -> Markup:
    labels = [day.strftime("%a %d %b") for day in sales.days]
    def whole(amounts: list[int]) -> list[int]:
        return [staff_orders.whole_units(amount, sales.currency) for amount in amounts]
    return charts.bar_and_line_chart(
        labels, whole(sales.paid), whole(sales.refunded), chart_id="chart-sales",
        title=f"Payments and refunds per day ({sales.currency})",
        names=(f"paid ({sales.currency})", f"refunded ({sales.currency})"))


def _csv(prop: Any, filters: staff_orders.OrderFilters) -> Response:
    name = secure_filename(f"orders-{prop.code}-{today_at(prop).isoformat()}.csv")
    return Response(stream_with_context(staff_orders.csv_lines(prop, filters)),
                    mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _actor() -> str:
    return f"staff:{staff_name()}"


def _attempt(step: Callable[[], Any]) -> Any:
    """Run an order step; flash why it was refused and return None, else its result.
    An order of another property stays a 404 (NotFound is not caught)."""
    try:
        return step()
    except REFUSALS as error:
        flash(str(error.message), "error")
        return None
