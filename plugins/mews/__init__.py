"""Mews: stays from the Connector API, told by its General Webhooks; charges as orders.

- Webhook: a General Webhook (``{EnterpriseId, IntegrationId, Events}``) whose
  ``EnterpriseId`` must be the property's. ``ServiceOrderUpdated`` names a
  reservation, ``CustomerAdded``/``CustomerUpdated`` a customer (a new customer
  comes with both: the core merges the two into one fetch).
- A reservation is read with ``reservations/getAll/2023-06-06``, its guests
  (the owner, then its companions) with ``companionships/getAll`` and
  ``customers/getAll``, its room with ``resources/getAll``.
- A room charge is ``orders/add`` linked to the reservation, the idempotency key
  in its ``Notes`` (Mews has no idempotency key for orders: the owner's custom
  items are searched for the key first); a void is ``orderItems/cancel``.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Iterable
from zoneinfo import ZoneInfo

from hotel_community.errors import AuthenticationFailed, MalformedRequest, PmsError
from hotel_community.hookspecs import (
    FolioCharge, Notification, PmsConnection, PMSAdapter, SettingField, hookimpl,
)
from hotel_community.models import StayStatus
from hotel_community.services.checkin import GuestSnapshot, StaySnapshot
from hotel_community.services.products import minor_to_decimal

from .connector import PRODUCTION, Connector

if TYPE_CHECKING:
    from flask import Request

    from hotel_community.models import Stay

RESERVATION, CUSTOMER = "reservation", "customer"
#: General Webhook event discriminator -> the kind of notification it makes.
EVENT_KINDS = {"ServiceOrderUpdated": RESERVATION, "CustomerAdded": CUSTOMER,
               "CustomerUpdated": CUSTOMER}
#: Mews reservation (service order) state -> stay status; ``Canceled`` with the
#: cancellation reason ``NoShow`` is a no-show.
STATES = {"Inquired": StayStatus.expected, "Requested": StayStatus.expected,
          "Optional": StayStatus.expected, "Confirmed": StayStatus.expected,
          "Started": StayStatus.in_house, "Processed": StayStatus.checked_out,
          "Canceled": StayStatus.cancelled}
#: The reservations a customer's change is passed on to: the stays the core still shows.
CURRENT_STATES = ["Confirmed", "Started"]


class MewsAdapter(PMSAdapter):
    name = "mews"
    label = "Mews"
    settings_fields = (
        SettingField("base_url", "API address", default=PRODUCTION,
                     help="The Connector API's address (https://api.mews-demo.com for the demo)."),
        SettingField("client_token", "Client token", secret=True),
        SettingField("access_token", "Access token", secret=True,
                     help="The property's integration access token."),
        SettingField("client", "Client name", default="hotel-community 0.1"),
        SettingField("enterprise_id", "Enterprise id",
                     help="Webhooks naming another enterprise are refused."),
        SettingField("service_id", "Stay service id",
                     help="The bookable service of the rooms; room charges are ordered on it."),
        SettingField("tax_code", "Tax code of room charges", required=False,
                     help="A Mews tax rate code (e.g. CN-S); left blank, none is sent."),
    )

    # ----------------------------------------------------------------------- webhooks

    def verify_webhook(self, request: Request, connection: PmsConnection) -> None:
        enterprise = str(_webhook_body(request).get("EnterpriseId", ""))
        if enterprise.lower() != connection.settings["enterprise_id"].lower():
            raise AuthenticationFailed("This Mews webhook is for another enterprise.")

    def notifications_from_webhook(self, request: Request,
                                   connection: PmsConnection) -> list[Notification]:
        """One notification per reservation or customer event; other events are ignored."""
        return [Notification(EVENT_KINDS[event["Discriminator"]], str(event["Value"]["Id"]))
                for event in _webhook_body(request)["Events"]
                if event["Discriminator"] in EVENT_KINDS]

    # ----------------------------------------------------------------------- stays

    def fetch_stays(self, connection: PmsConnection,
                    notification: Notification) -> list[StaySnapshot]:
        mews = Connector(connection.settings)
        if notification.kind == CUSTOMER:
            reservations = _reservations_of_customer(mews, notification.ref)
        else:
            reservations = mews.reservations(ReservationIds=[notification.ref])
        return _snapshots(mews, connection, reservations)

    def in_house(self, connection: PmsConnection) -> list[StaySnapshot]:
        mews = Connector(connection.settings)
        return _snapshots(mews, connection, mews.reservations(States=["Started"]))

    def check_connection(self, connection: PmsConnection) -> str:
        mews = Connector(connection.settings)
        enterprise = mews.configuration()["Enterprise"]
        if enterprise["Id"].lower() != mews.enterprise_id.lower():
            raise PmsError(f"The access token is for the enterprise {enterprise['Id']} "
                           f"({enterprise['Name']}), not {mews.enterprise_id}.")
        in_house = len(mews.reservations(States=["Started"]))
        return f"Connected to {enterprise['Name']}: {in_house} in house."

    # ----------------------------------------------------------------------- folio

    def post_folio_charge(self, connection: PmsConnection, stay: Stay,
                          charge: FolioCharge) -> str:
        """An order of one custom item on the reservation owner's account, linked to the
        reservation; a credit is a negative amount (Mews must allow the integration
        negative charges). The order id, also when an earlier attempt already posted it."""
        mews = Connector(connection.settings)
        owner = _reservation(mews, stay.reservation_id)["AccountId"]
        for item in mews.order_items(AccountIds=[owner], ServiceIds=[mews.service_id],
                                     Types=["CustomItem"]):
            if item.get("Notes") == charge.idempotency_key:
                return item["ServiceOrderId"]
        tax_code = connection.settings["tax_code"]
        amount = minor_to_decimal(charge.amount, charge.currency)
        return mews.add_order(
            AccountId=owner, ServiceId=mews.service_id, LinkedReservationId=stay.reservation_id,
            Notes=charge.idempotency_key,
            Items=[{"Name": charge.description, "UnitCount": 1,
                    "UnitAmount": {"Currency": charge.currency, "GrossValue": float(amount),
                                   "TaxCodes": [tax_code] if tax_code else []}}])

    def void_folio_charge(self, connection: PmsConnection, stay: Stay, pms_charge_id: str,
                          idempotency_key: str) -> str:
        """Cancel the order's items (again: nothing left to cancel is a success). Items on a
        closed bill cannot be canceled: the core then posts a credit instead."""
        mews = Connector(connection.settings)
        items = mews.order_items(ServiceOrderIds=[pms_charge_id])
        if not items:
            raise PmsError(f"Mews has no order {pms_charge_id} to cancel.")
        if any(item["AccountingState"] == "Closed" for item in items):
            raise NotImplementedError(f"The order {pms_charge_id} is on a closed bill.")
        mews.cancel_order_items([item["Id"] for item in items
                                 if item["AccountingState"] != "Canceled"])
        return f"canceled:{pms_charge_id}"


# --------------------------------------------------------------------------- helpers

def _webhook_body(request: Request) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("Events"), list):
        raise MalformedRequest("This is not a Mews General Webhook.")
    return body


def _reservation(mews: Connector, reservation_id: str) -> dict[str, Any]:
    found = mews.reservations(ReservationIds=[reservation_id])
    if not found:
        raise PmsError(f"Mews has no reservation {reservation_id} in this enterprise's "
                       "stay service.")
    return found[0]


def _reservations_of_customer(mews: Connector, customer_id: str) -> list[dict[str, Any]]:
    """The customer's current reservations: those it owns, and those it accompanies."""
    owned = mews.reservations(AccountIds=[customer_id], States=CURRENT_STATES)
    accompanied = {c["ReservationId"] for c in mews.companionships("CustomerIds", [customer_id])
                   if c.get("ReservationId")} - {r["Id"] for r in owned}
    if not accompanied:
        return owned
    return owned + mews.reservations(ReservationIds=sorted(accompanied), States=CURRENT_STATES)


def _snapshots(mews: Connector, connection: PmsConnection,
               reservations: list[dict[str, Any]]) -> list[StaySnapshot]:
    """Fetch the reservations' guests and rooms, then build their snapshots."""
    if not reservations:
        return []
    companions: dict[str, list[str]] = {r["Id"]: [] for r in reservations}
    for companionship in mews.companionships("ReservationIds", list(companions)):
        companions[companionship["ReservationId"]].append(companionship["CustomerId"])
    guest_ids = {r["Id"]: _guest_ids(r, companions[r["Id"]]) for r in reservations}
    customers = {c["Id"]: c for c in mews.customers(
        sorted({cid for ids in guest_ids.values() for cid in ids}))}
    room_ids = sorted({r["AssignedResourceId"] for r in reservations
                       if r.get("AssignedResourceId")})
    rooms = {r["Id"]: r["Name"] for r in mews.resources(room_ids)} if room_ids else {}
    zone = ZoneInfo(connection.property.timezone)
    return [StaySnapshot(
        reservation_id=r["Id"], status=_status(r),
        arrival=_local_date(r["ScheduledStartUtc"], zone),
        departure=_local_date(r["ScheduledEndUtc"], zone),
        room=rooms.get(r.get("AssignedResourceId") or ""),
        guests=tuple(_guests(customers[cid] for cid in guest_ids[r["Id"]] if cid in customers)))
        for r in reservations]


def _guest_ids(reservation: dict[str, Any], companions: list[str]) -> list[str]:
    """The owner (when a customer, not a company) first, then the other companions."""
    owner = [reservation["AccountId"]] if reservation.get("AccountType") == "Customer" else []
    return list(dict.fromkeys(owner + companions))


def _guests(customers: Iterable[dict[str, Any]]) -> Iterable[GuestSnapshot]:
    for index, customer in enumerate(customers):
        language = (customer.get("LanguageCode") or "").split("-")[0].lower() or None
        yield GuestSnapshot(first_name=customer.get("FirstName") or "",
                            last_name=customer.get("LastName") or "",
                            pms_guest_id=customer["Id"], email=customer.get("Email"),
                            phone=customer.get("Phone"), language=language,
                            primary=index == 0)


def _status(reservation: dict[str, Any]) -> StayStatus:
    if reservation["State"] == "Canceled" and reservation.get("CancellationReason") == "NoShow":
        return StayStatus.no_show
    return STATES[reservation["State"]]


def _local_date(utc: str, zone: ZoneInfo) -> date:
    return datetime.fromisoformat(utc).astimezone(zone).date()


ADAPTER = MewsAdapter()


@hookimpl
def hotel_community_pms_adapters() -> list[PMSAdapter]:
    return [ADAPTER]
