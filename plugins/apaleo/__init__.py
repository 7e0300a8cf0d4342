"""Apaleo: stays from the Booking API, room charges on the guest folio through the Finance API.

Apaleo's webhook (https://apaleo.dev/guides/webhook/webhooks-payload.html) says
which reservation changed (``data.entityId``); the adapter then reads the
reservation, whatever the event's ``type``, since webhooks come late, twice or
out of order. A property links with a custom app's client credentials (see
:mod:`.api`) and its Apaleo property id, which every webhook must carry.

Charges go to the reservation's main open guest folio with Apaleo's
``Idempotency-Key``: a retry of a charge whose answer was lost is answered
with the first posting, not posted again. A credit is an allowance on the
folio; taking back a whole charge is an allowance for that charge. Apaleo
guests have no ids: the core matches them by e-mail, then by name.
"""
from __future__ import annotations

import hmac
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Mapping
from urllib.parse import quote
from zoneinfo import ZoneInfo

from hotel_community.errors import AuthenticationFailed, MalformedRequest, PmsError
from hotel_community.hookspecs import (
    FolioCharge, Notification, PmsConnection, PMSAdapter, SettingField, hookimpl,
)
from hotel_community.models import StayStatus
from hotel_community.services.checkin import GuestSnapshot, StaySnapshot
from hotel_community.services.products import minor_to_decimal

from . import api

if TYPE_CHECKING:
    from flask import Request

    from hotel_community.models import Stay

NAME = "apaleo"
#: The kind of notification every adapter understands (see pms_inbox.RESERVATION).
RESERVATION = "reservation"
#: Apaleo's reservation ``status`` -> ours.
STATUSES = {"Confirmed": StayStatus.expected, "InHouse": StayStatus.in_house,
            "CheckedOut": StayStatus.checked_out, "Canceled": StayStatus.cancelled,
            "NoShow": StayStatus.no_show}
PAGE_SIZE = 100
#: Separates the folio id from the charge or allowance id in the ids we return: Apaleo's
#: charge and allowance ids are unique within one folio only.
ID_SEPARATOR = "/"


class ApaleoAdapter(PMSAdapter):
    name = NAME
    label = "Apaleo"
    settings_fields = (
        SettingField("base_url", "API URL", required=False, default="https://api.apaleo.com"),
        SettingField("identity_url", "Identity server URL", required=False,
                     default="https://identity.apaleo.com"),
        SettingField("client_id", "Client id",
                     help="Of a custom app (client credentials) whose scopes let it read "
                          "reservations, properties and folios, and post charges and allowances."),
        SettingField("client_secret", "Client secret", secret=True),
        SettingField("property_id", "Property id", help="Apaleo's id of the hotel, e.g. MUC."),
        SettingField("webhook_username", "Webhook username", required=False,
                     help="If the webhook subscription's URL carries basic auth."),
        SettingField("webhook_password", "Webhook password", secret=True, required=False),
        SettingField("service_type", "Service type of room charges", required=False,
                     default="Other", help="Apaleo's serviceType, e.g. Other or FoodAndBeverages."),
        SettingField("vat_type", "VAT type of room charges", required=False, default="Normal",
                     help="Apaleo's vatType, e.g. Normal, Reduced or Without."),
    )

    # --------------------------------------------------------------------- webhooks

    def verify_webhook(self, request: Request, connection: PmsConnection) -> None:
        """The subscription's basic auth, when one is set, and this property's id."""
        _check_basic_auth(request, connection.settings)
        if connection.settings["property_id"] not in _property_ids(_body(request)):
            raise AuthenticationFailed("This webhook is not about this property.")

    def notifications_from_webhook(self, request: Request,
                                   connection: PmsConnection) -> list[Notification]:
        body = _body(request)
        topic = body.get("topic")
        if not isinstance(topic, str) or not isinstance(body.get("type"), str):
            raise MalformedRequest("An Apaleo webhook has a topic and a type.")
        if topic.lower() != "reservation":
            return []
        data = body.get("data")
        entity_id = data.get("entityId") if isinstance(data, dict) else None
        if not isinstance(entity_id, str) or not entity_id:
            raise MalformedRequest("An Apaleo reservation webhook names it in data.entityId.")
        return [Notification(RESERVATION, entity_id)]

    # --------------------------------------------------------------------- stays

    def fetch_stays(self, connection: PmsConnection,
                    notification: Notification) -> list[StaySnapshot]:
        if notification.kind != RESERVATION:
            return []
        settings = connection.settings
        try:
            reservation = api.get(settings, "/booking/v1/reservations/"
                                  + quote(notification.ref, safe=""))
        except PmsError as exc:
            if api.status_of(exc) == 404:
                return []
            raise
        if reservation["property"]["id"] != settings["property_id"]:
            return []
        return [_snapshot(reservation, _zone(connection))]

    def in_house(self, connection: PmsConnection) -> list[StaySnapshot]:
        """Every page of the property's InHouse reservations, then their snapshots."""
        reservations: list[dict[str, Any]] = []
        page_number = 1
        while True:
            page = _in_house_page(connection.settings, page_number, PAGE_SIZE)
            reservations += page["reservations"]
            if not page["reservations"] or len(reservations) >= page["count"]:
                break
            page_number += 1
        zone = _zone(connection)
        return [_snapshot(reservation, zone) for reservation in reservations]

    def check_connection(self, connection: PmsConnection) -> str:
        settings = connection.settings
        hotel = api.get(settings, "/inventory/v1/properties/"
                        + quote(settings["property_id"], safe=""))
        count = _in_house_page(settings, 1, 1)["count"]
        return f"Connected to {hotel['name']}: {count} in house."

    # --------------------------------------------------------------------- folio

    def post_folio_charge(self, connection: PmsConnection, stay: Stay,
                          charge: FolioCharge) -> str:
        """A charge, or for a negative amount an allowance, on the reservation's folio."""
        settings = connection.settings
        folio_id = _guest_folio(settings, stay.reservation_id)
        money = _money(abs(charge.amount), charge.currency)
        accounting = {"serviceType": settings["service_type"], "vatType": settings["vat_type"]}
        if charge.amount >= 0:
            posted = api.post(settings, f"/finance/v1/folio-actions/{folio_id}/charges",
                              {**accounting, "name": charge.description, "amount": money,
                               "receipt": charge.idempotency_key, "quantity": 1},
                              charge.idempotency_key)
        else:
            posted = api.post(settings, f"/finance/v1/folio-actions/{folio_id}/allowances",
                              {**accounting, "reason": charge.description, "amount": money},
                              charge.idempotency_key)
        return f"{folio_id}{ID_SEPARATOR}{posted['id']}"

    def void_folio_charge(self, connection: PmsConnection, stay: Stay, pms_charge_id: str,
                          idempotency_key: str) -> str:
        """An allowance for the whole charge (Apaleo does not delete a posted charge)."""
        settings = connection.settings
        folio_id, _, charge_id = pms_charge_id.rpartition(ID_SEPARATOR)
        folio = api.get(settings, f"/finance/v1/folios/{folio_id}")
        charge = next((c for c in folio.get("charges") or [] if c["id"] == charge_id), None)
        if charge is None:
            raise PmsError(f"Apaleo folio {folio_id} has no charge {charge_id}.")
        amount = charge["amount"]
        allowance = api.post(
            settings,
            f"/finance/v1/folio-actions/{folio_id}/charges/{charge_id}/allowances",
            {"reason": f"Refund: {charge['name']}",
             "amount": {"amount": amount["grossAmount"], "currency": amount["currency"]}},
            idempotency_key)
        return f"{folio_id}{ID_SEPARATOR}{allowance['id']}"


ADAPTER = ApaleoAdapter()


@hookimpl
def hotel_community_pms_adapters() -> list[PMSAdapter]:
    return [ADAPTER]


# ------------------------------------------------------------------------- webhook body

def _body(request: Request) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise MalformedRequest("An Apaleo webhook is a JSON object.")
    return body


def _property_ids(body: dict[str, Any]) -> list[Any]:
    """The property an event is about; the subscription's properties for its health check."""
    if "propertyId" in body:
        return [body["propertyId"]]
    ids = body.get("propertyIds")
    return ids if isinstance(ids, list) else []


def _check_basic_auth(request: Request, settings: Mapping[str, str]) -> None:
    username, password = settings["webhook_username"], settings["webhook_password"]
    if not (username or password):
        return
    auth = request.authorization
    basic = auth is not None and auth.type == "basic"
    given_user = (auth.username or "") if basic else ""
    given_password = (auth.password or "") if basic else ""
    # Both compared in any case, in constant time.
    user_ok = hmac.compare_digest(given_user.encode(), username.encode())
    password_ok = hmac.compare_digest(given_password.encode(), password.encode())
    if not (user_ok and password_ok):
        raise AuthenticationFailed("The webhook's basic auth is not the one set for Apaleo.")


# ------------------------------------------------------------------------- reservations

def _in_house_page(settings: Mapping[str, str], page_number: int,
                   page_size: int) -> dict[str, Any]:
    """One page of InHouse reservations; Apaleo answers 204, no body, when there is none."""
    page = api.get(settings, "/booking/v1/reservations",
                   params={"propertyIds": settings["property_id"], "status": "InHouse",
                           "pageNumber": page_number, "pageSize": page_size})
    return page or {"reservations": [], "count": 0}


def _zone(connection: PmsConnection) -> ZoneInfo:
    return ZoneInfo(connection.property.timezone)


def _snapshot(reservation: dict[str, Any], zone: ZoneInfo) -> StaySnapshot:
    status = STATUSES.get(reservation["status"])
    if status is None:
        raise PmsError(f"Apaleo reservation {reservation['id']} has an unknown status "
                       f"{reservation['status']!r}.")
    unit = reservation.get("unit") or {}
    return StaySnapshot(reservation_id=reservation["id"], status=status,
                        arrival=_local_date(reservation["arrival"], zone),
                        departure=_local_date(reservation["departure"], zone),
                        room=unit.get("name"), guests=_guests(reservation))


def _local_date(moment: str, zone: ZoneInfo) -> date:
    """An ISO 8601 date-time with its offset (or Z) -> the date at the property."""
    return datetime.fromisoformat(moment).astimezone(zone).date()


def _guests(reservation: dict[str, Any]) -> tuple[GuestSnapshot, ...]:
    main = reservation.get("primaryGuest")
    others = reservation.get("additionalGuests") or []
    return ((_guest(main, primary=True),) if main else ()) + tuple(
        _guest(guest, primary=False) for guest in others)


def _guest(guest: dict[str, Any], primary: bool) -> GuestSnapshot:
    language = guest.get("preferredLanguage")
    return GuestSnapshot(first_name=guest.get("firstName") or "", last_name=guest["lastName"],
                         email=guest.get("email"), phone=guest.get("phone"),
                         language=language[:2].lower() if language else None, primary=primary)


# ------------------------------------------------------------------------- folios

def _guest_folio(settings: Mapping[str, str], reservation_id: str) -> str:
    """The reservation's main open guest folio (the first open one if none is main)."""
    answer = api.get(settings, "/finance/v1/folios",
                     params={"reservationIds": reservation_id, "type": "Guest",
                             "excludeClosed": "true"})
    folios = answer["folios"] if answer else []
    if not folios:
        raise PmsError(f"Apaleo reservation {reservation_id} has no open guest folio.")
    main = next((folio for folio in folios if folio.get("isMainFolio")), folios[0])
    return main["id"]


def _money(amount: int, currency: str) -> dict[str, Any]:
    """Apaleo's MonetaryValueModel: the amount in major units, as a JSON number."""
    return {"amount": float(minor_to_decimal(amount, currency)), "currency": currency}
