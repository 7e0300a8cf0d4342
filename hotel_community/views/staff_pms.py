"""Staff page of a property's PMS link: link or change it, test it, its webhook URL, sync now,
unlink, and the inbox of vendor notifications (counts, the latest, retry the failed ones)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from flask import flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from hotel_community.errors import CommunityError, PmsError, ValidationFailed
from hotel_community.hookspecs import PMSAdapter, SettingField
from hotel_community.models import PmsLink, PmsNotificationStatus, Property
from hotel_community.services import charts, pms_inbox, pms_links, properties
from hotel_community.views.staff_auth import staff_required
from hotel_community.views.staff_base import current_property, staff_blueprint

bp = staff_blueprint("staff_pms", __name__)

#: Settings inputs are named ``setting-<name>``, apart from the form's own fields.
FIELD_PREFIX = "setting-"


@dataclass(frozen=True)
class FieldRow:
    """One setting as the form shows it: never a secret's value, only whether one is saved."""

    field: SettingField
    input_name: str
    value: str
    saved: bool
    errors: tuple[str, ...]


@bp.get("")
@staff_required
def page() -> str:
    return _render(current_property())


@bp.post("/link")
@staff_required
def link() -> str | Response:
    prop = current_property()
    name = request.form.get("adapter", "")
    values = {key.removeprefix(FIELD_PREFIX): value for key, value in request.form.items()
              if key.startswith(FIELD_PREFIX)}
    try:
        pms_links.save_link(prop, name, values)
    except ValidationFailed as error:
        flash(str(error.message), "error")
        return _render(prop, chosen=name, typed=values, errors=error.details or {}), 422
    flash(f"Saved the link to {pms_links.adapter_named(name).label}.", "success")
    return _back(prop)


@bp.post("/check")
@staff_required
def check() -> Response:
    prop = current_property()
    checked = pms_links.check_connection(prop)
    if checked.check_ok:
        flash(f"The connection works. {checked.check_message}", "success")
    else:
        flash(f"The connection failed: {checked.check_message}", "error")
    return _back(prop)


@bp.post("/webhook-token")
@staff_required
def rotate() -> Response:
    prop = current_property()
    pms_links.rotate_webhook_token(prop)
    flash("New webhook URL made: give it to the PMS now. The old URL no longer works.", "success")
    return _back(prop)


@bp.post("/sync")
@staff_required
def sync() -> Response:
    prop = current_property()
    try:
        report = pms_inbox.sync(prop)
    except CommunityError as error:  # the PMS refused or did not answer: nothing was applied
        flash(f"Sync failed: {error.message}", "error")
    else:
        flash(f"Synced with the PMS. {report.summary()}", "success")
    return _back(prop)


@bp.post("/unlink")
@staff_required
def unlink() -> Response:
    prop = current_property()
    pms_links.unlink(prop)
    flash(f"{prop.name} is no longer linked to a PMS: its webhooks are refused, and room "
          "charges go to the front desk.", "success")
    return _back(prop)


@bp.post("/notifications/<hc_id:notification_id>/retry")
@staff_required
def retry(notification_id: int) -> Response:
    prop = current_property()
    note = pms_inbox.retry(prop, notification_id)
    flash(f"Fetching {note.kind} {note.ref} from the PMS again.", "success")
    # As the vendor webhook does: fetched once the clerk has the page, else by cron.
    return pms_inbox.process_after(_back(prop), [note.id])


# --------------------------------------------------------------------------- the page

def _render(prop: Property, chosen: str | None = None, typed: Mapping[str, str] | None = None,
            errors: Mapping[str, list[str]] | None = None) -> str:
    available = pms_links.adapters()
    current = pms_links.get_link(prop)
    try:
        found = pms_links.connection_for(prop)
        webhook_url = pms_links.webhook_url(prop, current) if found else None
        unreadable = None
    except PmsError as error:  # saved under another secret key: they must be entered again
        found, webhook_url, unreadable = None, None, error.message
    adapter = _adapter_shown(available, current, chosen or request.args.get("adapter"))
    counts = pms_inbox.counts_by_status(prop)
    return render_template(
        "hotel_community/staff/pms.html", property=prop, properties=properties.list_properties(),
        adapters=sorted(available.values(), key=lambda a: str(a.label)), adapter=adapter,
        link=current, installed=found is not None, unreadable=unreadable,
        rows=_rows(adapter, found[1].settings if found else {}, current, typed, errors or {}),
        webhook_url=webhook_url,
        counts=counts, chart=_chart(counts),
        notifications=pms_inbox.recent(prop), failed=PmsNotificationStatus.failed)


def _adapter_shown(available: Mapping[str, PMSAdapter], current: PmsLink | None,
                   chosen: str | None) -> PMSAdapter | None:
    """The linked adapter, else the one chosen in the form (``?adapter=``), else none yet."""
    if current is not None:
        return available.get(current.adapter)
    return available.get(chosen or "")


def _rows(adapter: PMSAdapter | None, saved: Mapping[str, str], current: PmsLink | None,
          typed: Mapping[str, str] | None, errors: Mapping[str, list[str]]) -> list[FieldRow]:
    """The adapter's settings: what was typed (after an error), else what is saved.

    A secret is never put back in the page: after an error it must be typed again,
    and a saved one is only said to be there.
    """
    if adapter is None:
        return []
    plain = current.settings if current is not None else {}
    rows = []
    for field in adapter.settings_fields:
        if field.secret:
            value = ""
        elif typed is not None:
            value = typed.get(field.name, "")
        else:
            value = plain.get(field.name) or field.default
        rows.append(FieldRow(field, FIELD_PREFIX + field.name, value,
                             saved=field.secret and bool(saved.get(field.name)),
                             errors=tuple(errors.get(field.name, ()))))
    return rows


def _chart(counts: Mapping[str, int]) -> Markup:
    """The share of notifications applied, as a ring; the counts are beside it."""
    total = sum(counts.values())
    done = counts.get(PmsNotificationStatus.done.value, 0)
    return charts.progress_ring(
        done / total if total else None, chart_id="chart-pms-applied",
        title="Notifications applied",
        detail=f"{done} of {total} notifications applied, "
               f"{counts.get(PmsNotificationStatus.pending.value, 0)} waiting, "
               f"{counts.get(PmsNotificationStatus.failed.value, 0)} failed")


def _back(prop: Property) -> Response:
    return redirect(url_for(".page", property=prop.code))
