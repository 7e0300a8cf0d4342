"""Staff pages of events: the list, create and edit, capacity per date, cancelling, and one
date's attendees, waitlist, attendance chart and CSV."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from werkzeug.utils import secure_filename
from wtforms import (
    BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField, TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from hotel_community.errors import Conflict, PaymentProviderError, ValidationFailed
from hotel_community.models import Event, EventAudience, EventOccurrence, Property
from hotel_community.services import charts, events, properties, staff_events
from hotel_community.services.products import format_price, minor_to_decimal, price_to_minor
from hotel_community.views.staff_auth import staff_required
from hotel_community.views.staff_base import current_property, staff_blueprint, staff_name

bp = staff_blueprint("staff_events", __name__)

#: What a change may refuse with; shown as a message on the page it came from.
REFUSALS = (Conflict, ValidationFailed, PaymentProviderError)
AUDIENCES = [SelectChoice(EventAudience.in_house.value, "Guests in house"),
             SelectChoice(EventAudience.members.value, "All members"),
             SelectChoice(EventAudience.public.value, "Public")]


class EventForm(FlaskForm):
    """The rules (capacity, duration, end date after the start) are checked by services.events."""

    title_en = StringField("Title (English)", validators=[DataRequired(), Length(max=200)])
    title_zh = StringField("Title (Chinese)", validators=[Optional(), Length(max=200)])
    description_en = TextAreaField("Description (English)", validators=[Length(max=5000)])
    description_zh = TextAreaField("Description (Chinese)", validators=[Length(max=5000)])
    place = StringField("Place", validators=[Length(max=200)], description="e.g. Lobby bar")
    audience = SelectField("Who may come", choices=AUDIENCES)
    start_date = DateField("First date", validators=[InputRequired()])
    start_time = TimeField("Starts at", validators=[InputRequired()])
    duration_minutes = IntegerField("Duration (minutes)", default=60,
                                    validators=[InputRequired()])
    repeat_daily_until = DateField("Repeat every day until", validators=[Optional()],
                                   description="Leave empty for a one-off event.")
    capacity = IntegerField("Places per date", validators=[InputRequired()])
    plus_ones = BooleanField("A guest may bring a +1")
    price = StringField("Price per place", validators=[Length(max=20)],
                        description="e.g. 88.00; empty or 0 for a free event")
    rsvp_closes_minutes = IntegerField("RSVPs close (minutes before the start)", default=0,
                                       validators=[InputRequired()])


class CapacityForm(FlaskForm):
    capacity = IntegerField("Places", validators=[InputRequired(), NumberRange(min=1)])


# --------------------------------------------------------------------------- the list

@bp.get("", endpoint="list")
@staff_required
def event_list() -> str:
    prop = current_property()
    rows = staff_events.upcoming(prop)
    waiting = staff_events.waitlist_counts([o.id for row in rows for o in row.dates])
    return render_template("hotel_community/staff/events.html", property=prop, rows=rows,
                           past=staff_events.past(prop), waiting=waiting,
                           audiences={choice.value: choice.label for choice in AUDIENCES},
                           properties=properties.list_properties(), **_readers(prop))


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def new() -> str | Response:
    prop = current_property()
    form = EventForm()
    if form.validate_on_submit():
        event = _attempt(lambda: events.create_event(prop, _fields(form, prop), _actor()), form)
        if event is not None:
            dates = len(event.occurrences)
            flash(f"Created “{event.title_en}” ({dates} date{'' if dates == 1 else 's'}) and "
                  "announced it in the stay group.", "success")
            return redirect(url_for(".edit", event_id=event.id))
    return render_template("hotel_community/staff/event_form.html", form=form, event=None,
                           property=prop)


@bp.route("/<hc_id:event_id>", methods=["GET", "POST"])
@staff_required
def edit(event_id: int) -> str | Response:
    prop = current_property()
    event = events.get_event(event_id, prop)
    form = EventForm(obj=None if request.method == "POST" else event)
    if request.method == "GET":
        form.audience.data, form.price.data = event.audience.value, _price_text(event)
    for fixed in ("start_date", "start_time", "duration_minutes", "repeat_daily_until",
                  "capacity"):
        delattr(form, fixed)  # dates and capacity are fixed here; capacity changes per date
    if form.validate_on_submit() and _attempt(
            lambda: events.update_event(event.id, _fields(form, prop, event)), form):
        flash("Saved.", "success")
        return redirect(url_for(".edit", event_id=event.id))
    return render_template("hotel_community/staff/event_form.html", form=form, event=event,
                           property=prop, capacity_form=CapacityForm(formdata=None),
                           waiting=staff_events.waitlist_counts([o.id for o in event.occurrences]),
                           unfinished=events.open_after_cancel(event.id), **_readers(prop))


@bp.post("/<hc_id:event_id>/cancel")
@staff_required
def cancel(event_id: int) -> Response:
    prop = current_property()
    events.get_event(event_id, prop)
    cancelled = _attempt(lambda: events.cancel_event(event_id, _actor()))
    if cancelled is not None:
        flash(f"Event cancelled. {_tickets_cancelled(cancelled)}", "success")
    return redirect(url_for(".edit", event_id=event_id))


# --------------------------------------------------------------------------- one date

@bp.get("/occurrences/<hc_id:occurrence_id>")
@staff_required
def occurrence(occurrence_id: int) -> str:
    prop = current_property()
    shown = staff_events.occurrence_of(prop, occurrence_id)
    tickets = staff_events.attendees(shown.id)
    line = events.waitlist(shown.id)
    rooms = staff_events.rooms_in_house(prop, [t.member_id for t in [*tickets, *line]])
    return render_template(
        "hotel_community/staff/event_occurrence.html", property=prop, occurrence=shown,
        event=shown.event, tickets=tickets, line=line, rooms=rooms,
        counts=staff_events.counts(shown), chart=_attendance_chart(prop, shown),
        capacity_form=CapacityForm(formdata=None, capacity=shown.capacity),
        status_text=staff_events.STATUS_TEXT, **_readers(prop))


@bp.get("/occurrences/<hc_id:occurrence_id>/attendees.csv")
@staff_required
def attendees_csv(occurrence_id: int) -> Response:
    prop = current_property()
    shown = staff_events.occurrence_of(prop, occurrence_id)
    day = events.local_time(prop, shown.starts_at).date().isoformat()
    name = secure_filename(f"attendees-{prop.code}-{shown.event_id}-{day}.csv")
    return Response(staff_events.attendees_csv(prop, shown), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.post("/occurrences/<hc_id:occurrence_id>/capacity")
@staff_required
def capacity(occurrence_id: int) -> Response:
    staff_events.occurrence_of(current_property(), occurrence_id)
    form = CapacityForm()
    if not form.validate_on_submit():
        flash("Enter the number of places (at least 1).", "error")
    else:
        changed = _attempt(lambda: events.set_capacity(occurrence_id, form.capacity.data))
        if changed is not None:
            flash(f"Capacity is now {changed.capacity} ({changed.taken} taken).", "success")
    return redirect(url_for(".occurrence", occurrence_id=occurrence_id))


@bp.post("/occurrences/<hc_id:occurrence_id>/cancel")
@staff_required
def cancel_occurrence(occurrence_id: int) -> Response:
    shown = staff_events.occurrence_of(current_property(), occurrence_id)
    cancelled = _attempt(lambda: events.cancel_event(shown.event_id, _actor(), occurrence_id))
    if cancelled is not None:
        flash(f"This date is cancelled. {_tickets_cancelled(cancelled)}", "success")
    return redirect(url_for(".occurrence", occurrence_id=occurrence_id))


# --------------------------------------------------------------------------- helpers

def _fields(form: EventForm, prop: Property, event: Event | None = None) -> events.EventFields:
    """The form as the service takes it; when editing, the fixed parts come from the event."""
    fixed: dict[str, Any] = {
        "starts_local": events.local_time(prop, event.starts_at).replace(tzinfo=None),
        "capacity": event.capacity, "duration_minutes": event.duration_minutes,
        "repeat_daily_until": event.repeat_daily_until,
    } if event is not None else {
        "starts_local": datetime.combine(form.start_date.data, form.start_time.data),
        "capacity": form.capacity.data, "duration_minutes": form.duration_minutes.data,
        "repeat_daily_until": form.repeat_daily_until.data,
    }
    price = (form.price.data or "").strip()
    return events.EventFields(
        title_en=form.title_en.data or "", title_zh=form.title_zh.data or "",
        description_en=form.description_en.data or "",
        description_zh=form.description_zh.data or "", place=form.place.data or "",
        audience=EventAudience(form.audience.data), plus_ones=form.plus_ones.data,
        price=price_to_minor(price, prop.currency) if price else 0,
        rsvp_closes_minutes=form.rsvp_closes_minutes.data, **fixed)


def _price_text(event: Event) -> str:
    return str(minor_to_decimal(event.price, event.currency)) if event.price else ""


def _tickets_cancelled(outcome: events.Cancelled) -> str:
    if not outcome.tickets:
        return "No tickets to cancel."
    said = (f"{outcome.tickets} ticket{'' if outcome.tickets == 1 else 's'} cancelled and every "
            "holder told; paid ones are refunded.")
    if outcome.refunds_failed:
        said += (f" {outcome.refunds_failed} refund(s) failed: refund them from the Orders page "
                 "(their history says why).")
    return said


def _readers(prop: Property) -> dict[str, Callable[..., Any]]:
    """How the templates write times and money."""
    def when(moment: datetime | None) -> str:
        return events.local_time(prop, moment).strftime("%a %d %b %Y %H:%M") if moment else ""
    return {"when": when, "price": format_price}


def _attendance_chart(prop: Property, occurrence: EventOccurrence) -> Markup:
    figures = staff_events.attendance(occurrence)
    labels = [events.local_time(prop, moment).strftime("%d %b")
              for moment in figures.dates]
    return charts.bar_and_line_chart(
        labels, figures.taken, figures.checked_in, chart_id="chart-attendance",
        title="Places taken and checked in per date", names=("places taken", "checked in"))


def _actor() -> str:
    return f"staff:{staff_name()}"


def _attempt(change: Callable[[], Any], form: FlaskForm | None = None) -> Any:
    """Run a change; flash why it was refused (and mark the form's fields) and return None.
    Another property's event stays a 404 (NotFound is not caught)."""
    try:
        return change()
    except REFUSALS as error:
        flash(str(error.message), "error")
        if form is not None and isinstance(error.details, dict):
            for name, messages in error.details.items():
                if name in form:
                    form[name].errors = [*form[name].errors, *messages]
        return None
