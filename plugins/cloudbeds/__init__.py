"""The Cloudbeds adapter (API v1.2, https://developers.cloudbeds.com/reference/about-pms-api).

Every call is ``<base_url>/api/v1.2/<method>`` with the property's API key in
``x-api-key``; POSTs are form-encoded. Cloudbeds answers
``{"success": true, "data": ...}``, and sometimes a refusal with HTTP 200 and
``{"success": false, "message": ...}``: that is a :class:`PmsError` too.

Webhooks only name the reservation: the adapter fetches it (``getReservation``)
and never trusts the webhook's own status or room fields as state.
Folio charges are custom items (``postCustomItem``) whose ``referenceID`` is
the charge's idempotency key: Cloudbeds documents that a ``referenceID`` sent a
second time creates nothing. A credit is a custom item with a negative price,
so that it gets the same exactly-once guarantee (``postAdjustment`` has none).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from flask import Request

from hotel_community.errors import AuthenticationFailed, MalformedRequest, PmsError
from hotel_community.hookspecs import (
    FolioCharge, Notification, PmsConnection, PMSAdapter, SettingField, hookimpl,
)
from hotel_community.models import Stay, StayStatus
from hotel_community.pms_http import VendorApi
from hotel_community.services.checkin import GuestSnapshot, StaySnapshot
from hotel_community.services.products import minor_to_decimal

RESERVATION = "reservation"
#: Webhook events that can change a stay; each carries the ``reservationID``.
STAY_EVENTS = frozenset({
    "reservation/created", "reservation/status_changed", "reservation/dates_changed",
    "reservation/accommodation_changed", "reservation/accommodation_status_changed",
    "reservation/deleted", "guest/assigned", "guest/removed",
})
STATUSES = {
    "not_confirmed": StayStatus.expected,
    "confirmed": StayStatus.expected,
    "checked_in": StayStatus.in_house,
    "checked_out": StayStatus.checked_out,
    "canceled": StayStatus.cancelled,
    "no_show": StayStatus.no_show,
}
#: The largest page ``getReservations`` gives.
PAGE_SIZE = 100


#: A posting Cloudbeds confirmed only by its ``referenceID`` (no ``soldProductID``).
REFERENCE_PREFIX = "ref:"

class CloudbedsAdapter(PMSAdapter):
    name = "cloudbeds"
    label = "Cloudbeds"
    settings_fields = (
        SettingField("base_url", "API base URL", required=False,
                     default="https://api.cloudbeds.com",
                     help="Without /api/v1.2; change it only for a Cloudbeds sandbox."),
        SettingField("api_key", "API key", secret=True,
                     help="Apps & Marketplace > API Credentials in Cloudbeds."),
        SettingField("property_id", "Property ID",
                     help="The propertyID Cloudbeds shows for this hotel."),
    )

    # --- webhooks ------------------------------------------------------------------------------
    def verify_webhook(self, request: Request, connection: PmsConnection) -> None:
        """The body's propertyID must be the linked property's (a body that is not a
        JSON object is left to :meth:`notifications_from_webhook` to refuse)."""
        body = request.get_json(silent=True)
        if isinstance(body, dict) and str(body.get("propertyID")) != connection.settings[
                "property_id"]:
            raise AuthenticationFailed("This Cloudbeds webhook is for another property.")

    def notifications_from_webhook(self, request: Request,
                                   connection: PmsConnection) -> list[Notification]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("event"), str):
            raise MalformedRequest("This is not a Cloudbeds webhook body.")
        if body["event"] not in STAY_EVENTS:
            return []
        if not body.get("reservationID"):
            raise MalformedRequest(f"A Cloudbeds {body['event']} webhook without reservationID.")
        return [Notification(RESERVATION, str(body["reservationID"]))]

    # --- stays ---------------------------------------------------------------------------------
    def fetch_stays(self, connection: PmsConnection,
                    notification: Notification) -> list[StaySnapshot]:
        if notification.kind != RESERVATION:
            return []
        property_id = connection.settings["property_id"]
        try:
            reservation = _call(connection, "GET", "getReservation", params={
                "propertyID": property_id, "reservationID": notification.ref})["data"]
        except PmsError as exc:
            if _not_found(exc):
                return []
            raise
        if str(reservation.get("propertyID")) != property_id:
            return []
        return [_snapshot(reservation)]

    def in_house(self, connection: PmsConnection) -> list[StaySnapshot]:
        """Every ``checked_in`` reservation, all pages fetched before any is read."""
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            answer = _call(connection, "GET", "getReservations", params={
                "propertyID": connection.settings["property_id"], "status": "checked_in",
                "includeGuestsDetails": "true", "pageNumber": page, "pageSize": PAGE_SIZE})
            rows += answer["data"]
            if not answer["data"] or len(rows) >= int(answer["total"]):
                break
            page += 1
        return [_snapshot(row) for row in rows]

    def check_connection(self, connection: PmsConnection) -> str:
        hotel = _call(connection, "GET", "getHotelDetails",
                      params={"propertyID": connection.settings["property_id"]})["data"]
        return f"Connected to {hotel['propertyName']}: {len(self.in_house(connection))} in house."

    # --- folio ---------------------------------------------------------------------------------
    def post_folio_charge(self, connection: PmsConnection, stay: Stay,
                          charge: FolioCharge) -> str:
        """A custom item on the reservation; a retry with the same ``referenceID`` posts
        nothing and answers with a notice (and, we expect, the first item's
        ``soldProductID``). Without the id, the item is on the folio all the same: it is
        recorded under its reference, and cannot be voided (a credit is posted instead)."""
        if charge.currency != connection.property.currency:
            raise PmsError(f"Cloudbeds takes charges in the property's currency "
                           f"({connection.property.currency}), not {charge.currency}.")
        data = _call(connection, "POST", "postCustomItem", data={
            "propertyID": connection.settings["property_id"],
            "reservationID": stay.reservation_id,
            "referenceID": charge.idempotency_key,
            "items[0][itemName]": charge.description,
            "items[0][itemQuantity]": "1",
            "items[0][itemPrice]": str(minor_to_decimal(charge.amount, charge.currency)),
        })["data"]
        if data.get("soldProductID"):
            return str(data["soldProductID"])
        if data.get("notice"):  # already posted under this referenceID
            return REFERENCE_PREFIX + charge.idempotency_key
        raise PmsError(f"Cloudbeds gave no soldProductID for {charge.idempotency_key}.")

    def void_folio_charge(self, connection: PmsConnection, stay: Stay, pms_charge_id: str,
                          idempotency_key: str) -> str:
        """``postVoidItem`` takes the item (and nothing else) off the folio, so voiding it
        again after a lost answer leaves the folio as it is. Cloudbeds gives the void no
        id of its own: the voided item's id stands for it."""
        if pms_charge_id.startswith(REFERENCE_PREFIX):
            raise NotImplementedError("no soldProductID to void: post a credit")
        _call(connection, "POST", "postVoidItem", data={
            "propertyID": connection.settings["property_id"],
            "reservationID": stay.reservation_id, "soldProductID": pms_charge_id})
        return f"void-{pms_charge_id}"


def _not_found(exc: PmsError) -> bool:
    """Cloudbeds says a reservation is unknown with a 404, or with ``success: false`` and a
    "not found" message under HTTP 200."""
    details = exc.details if isinstance(exc.details, dict) else {}
    return details.get("status") == 404 or "not found" in details.get("message", "").lower()


def _call(connection: PmsConnection, method: str, name: str, **kwargs: Any) -> dict[str, Any]:
    """Cloudbeds's answer to one API method; ``success: false`` (even with HTTP 200) raises."""
    settings = connection.settings
    api = VendorApi("Cloudbeds", f"{settings['base_url'].rstrip('/')}/api/v1.2",
                    headers={"x-api-key": settings["api_key"],
                             "X-PROPERTY-ID": settings["property_id"]})
    answer = api.request(method, name, **kwargs)
    if not isinstance(answer, dict) or answer.get("success") is not True:
        message = answer.get("message") if isinstance(answer, dict) else answer
        raise PmsError(f"Cloudbeds refused {name}: {message or 'no reason given'}",
                       {"message": str(message or "")})
    return answer


def _snapshot(reservation: dict[str, Any]) -> StaySnapshot:
    """A reservation of ``getReservation`` or ``getReservations`` (with guest details):
    both carry the dates (already the property's local dates) and the ``guestList``."""
    status = STATUSES.get(reservation["status"])
    if status is None:
        raise PmsError(f"Cloudbeds reservation {reservation['reservationID']} has a status "
                       f"this adapter does not know: {reservation['status']!r}.")
    # PHP sends an empty map as [].
    guests = list((reservation.get("guestList") or {}).values())
    main = next((guest for guest in guests if guest.get("isMainGuest")),
                guests[0] if guests else {})
    return StaySnapshot(
        reservation_id=str(reservation["reservationID"]), status=status,
        arrival=date.fromisoformat(reservation["startDate"]),
        departure=date.fromisoformat(reservation["endDate"]),
        room=main.get("roomName") or None,
        guests=tuple(_guest(guest, guest is main) for guest in guests))


def _guest(guest: dict[str, Any], primary: bool) -> GuestSnapshot:
    """Cloudbeds keeps no language for a guest, so none is given."""
    return GuestSnapshot(
        first_name=guest.get("guestFirstName") or "", last_name=guest.get("guestLastName") or "",
        pms_guest_id=str(guest["guestID"]), email=guest.get("guestEmail") or None,
        phone=guest.get("guestPhone") or guest.get("guestCellPhone") or None, primary=primary)


ADAPTER = CloudbedsAdapter()


@hookimpl
def hotel_community_pms_adapters() -> list[PMSAdapter]:
    return [ADAPTER]
