"""The Mews Connector API faked on 127.0.0.1, shaped as its documentation shows.

Documentation: https://mews-systems.gitbook.io/connector-api/ (the pages are also in
the repository MewsSystems/gitbook-connector-api). Every operation is a POST of JSON
carrying ``ClientToken``, ``AccessToken`` and ``Client``; a wrong token is a 401 with
``{"Message": ...}`` (guidelines/responses); lists use cursor pagination
(guidelines/pagination). Not documented, and assumed here: an order's ``Notes``
show on its order items (as ``orderItems/getAll`` documents a ``Notes`` on them).

The state is plain: ``reservations``, ``customers``, ``resources`` (by id),
``companionships`` and ``order_items`` (by id), ``orders`` (product service
orders, by id). Tests change it with :meth:`book`, :meth:`check_in`,
:meth:`move`, ... and build webhooks with :meth:`webhook_body`.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

from flask import Flask, Response, jsonify, request

from tests.pms.server import FakeVendor

ENTERPRISE_ID = "851df8c8-90f2-4c4a-8e01-a4fc46b25178"
INTEGRATION_ID = "c8bee838-7fb1-4f4e-8fac-ac87008b2f90"
SERVICE_ID = "bd26d8db-86da-4f96-9efc-e5a4654a4a94"
CLIENT_TOKEN = "E0D439EE522F44368DC78E1BFB03710C-D24FB11DBE31D4621C4817E028D9E1D"
ACCESS_TOKEN = "C66EF7B239D24632943D115EDE9CB810-EA00F8FD8294692C940F6B5A8F9453D"
TIMEZONE = ZoneInfo("Asia/Shanghai")
#: Local times of the scheduled start and end: 06:00 in Shanghai is 22:00 UTC the day
#: before, so an adapter that took the UTC date would be a day early.
START, END = time(6), time(12)
PREFIX = "/api/connector/v1/"


def utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> str:
    return utc(datetime.now(timezone.utc))


class MewsError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class MewsFake(FakeVendor):
    name = "mews"

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        """Forget every reservation, customer, order and request; misbehave no more."""
        self.enterprise = {
            "Id": ENTERPRISE_ID, "ChainId": str(uuid4()), "CreatedUtc": "2015-07-07T13:33:17Z",
            "Name": "Test Hotel Shanghai", "TimeZoneIdentifier": "Asia/Shanghai",
            "LegalEnvironmentCode": "CN", "DefaultLanguageCode": "zh-CN",
            "EditableHistoryInterval": "P0M3DT0H0M0S", "WebsiteUrl": None, "Email": None,
            "Phone": None, "LogoImageId": None, "CoverImageId": None,
            "Address": {"Line1": None, "Line2": None, "City": "Shanghai", "PostalCode": None,
                        "CountryCode": "CN"},
            "Currencies": [{"Currency": "CNY", "IsDefault": True, "IsEnabled": True}]}
        self.reservations: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, dict[str, Any]] = {}
        self.companionships: list[dict[str, Any]] = []
        self.orders: dict[str, dict[str, Any]] = {}
        self.order_items: dict[str, dict[str, Any]] = {}
        self.requests.clear()
        with self._lock:
            self._failures.clear()
            self._lost = 0
        self._lose_answers_to: list[str] = []

    # ------------------------------------------------------------------- state, for tests

    def customer(self, first: str, last: str, email: str | None = None,
                 phone: str | None = None, language: str | None = "zh-CN") -> str:
        """A customer (customers.md#customer); its id."""
        customer_id = str(uuid4())
        self.customers[customer_id] = {
            "Id": customer_id, "Number": str(len(self.customers) + 1), "FirstName": first,
            "LastName": last, "SecondLastName": None, "Title": None, "Sex": None,
            "NationalityCode": "CN", "LanguageCode": language, "BirthDate": None,
            "BirthPlace": None, "Email": email, "Phone": phone, "LoyaltyCode": None,
            "Notes": "", "Classifications": [], "Options": [], "CreatedUtc": now(),
            "UpdatedUtc": now(), "ActivityState": "Active"}
        return customer_id

    def update_customer(self, customer_id: str, **fields: Any) -> None:
        self.customers[customer_id].update(fields, UpdatedUtc=now())

    def room(self, name: str) -> str:
        """The id of the room (a resource, resources.md#resource) named ``name``."""
        for resource in self.resources.values():
            if resource["Name"] == name:
                return resource["Id"]
        resource_id = str(uuid4())
        self.resources[resource_id] = {
            "Id": resource_id, "EnterpriseId": ENTERPRISE_ID, "IsActive": True, "Name": name,
            "ParentResourceId": None, "State": "Inspected", "Descriptions": {},
            "Data": {"Discriminator": "Space", "Value": {"FloorNumber": name[:-2] or "1",
                                                         "LocationNotes": None}},
            "CreatedUtc": now(), "UpdatedUtc": now()}
        return resource_id

    def book(self, owner: str, *companions: str, arrival: date, departure: date,
             room: str | None = None, state: str = "Confirmed",
             service_id: str = SERVICE_ID) -> str:
        """A reservation (reservations.md#reservation-ver-2023-06-06) owned by ``owner``,
        who stays in it with ``companions``; its id."""
        reservation_id = str(uuid4())
        start = utc(datetime.combine(arrival, START, TIMEZONE))
        end = utc(datetime.combine(departure, END, TIMEZONE))
        self.reservations[reservation_id] = {
            "Id": reservation_id, "ServiceId": service_id, "AccountId": owner,
            "AccountType": "Customer", "CreatorProfileId": str(uuid4()),
            "UpdaterProfileId": str(uuid4()), "BookerId": None,
            "Number": str(len(self.reservations) + 1), "State": state, "Origin": "Connector",
            "CommanderOrigin": None, "OriginDetails": None, "CreatedUtc": now(),
            "UpdatedUtc": now(), "CancelledUtc": None, "VoucherId": None,
            "BusinessSegmentId": None,
            "Options": {"OwnerCheckedIn": False, "AllCompanionsCheckedIn": False,
                        "AnyCompanionCheckedIn": False, "ConnectorCheckIn": False},
            "RateId": str(uuid4()), "CreditCardId": None, "GroupId": str(uuid4()),
            "RequestedResourceCategoryId": str(uuid4()),
            "AssignedResourceId": self.room(room) if room else None,
            "AvailabilityBlockId": None, "PartnerCompanyId": None, "TravelAgencyId": None,
            "AssignedResourceLocked": False, "ChannelNumber": None, "ChannelManagerNumber": None,
            "CancellationReason": None, "ReleasedUtc": None, "StartUtc": start, "EndUtc": end,
            "ScheduledStartUtc": start, "ActualStartUtc": None, "ScheduledEndUtc": end,
            "ActualEndUtc": None, "Purpose": "Leisure", "QrCodeData": None,
            "PersonCounts": [{"AgeCategoryId": str(uuid4()), "Count": 1 + len(companions)}]}
        for customer_id in (owner, *companions):
            self.accompany(reservation_id, customer_id)
        return reservation_id

    def accompany(self, reservation_id: str, customer_id: str) -> None:
        """A companionship (companionships.md#companionship): the customer stays in it."""
        self.companionships.append({
            "Id": str(uuid4()), "CustomerId": customer_id,
            "ReservationGroupId": self.reservations[reservation_id]["GroupId"],
            "ReservationId": reservation_id})

    def _set(self, reservation_id: str, **fields: Any) -> None:
        self.reservations[reservation_id].update(fields, UpdatedUtc=now())

    def check_in(self, reservation_id: str) -> None:
        self._set(reservation_id, State="Started", ActualStartUtc=now())

    def undo_check_in(self, reservation_id: str) -> None:
        """The front desk takes the check-in back: the reservation is confirmed again."""
        self._set(reservation_id, State="Confirmed", ActualStartUtc=None)

    def check_out(self, reservation_id: str) -> None:
        self._set(reservation_id, State="Processed", ActualEndUtc=now())

    def cancel(self, reservation_id: str, reason: str = "RequestedByGuest") -> None:
        self._set(reservation_id, State="Canceled", CancellationReason=reason,
                  CancelledUtc=now())

    def no_show(self, reservation_id: str) -> None:
        self.cancel(reservation_id, "NoShow")

    def move(self, reservation_id: str, room: str) -> None:
        self._set(reservation_id, AssignedResourceId=self.room(room))

    def folio(self, reservation_id: str) -> list[dict[str, Any]]:
        """The order items of the orders linked to the reservation."""
        linked = {order_id for order_id, order in self.orders.items()
                  if order["LinkedReservationId"] == reservation_id}
        return [item for item in self.order_items.values() if item["ServiceOrderId"] in linked]

    def lose_next_answer(self, operation: str) -> None:
        """The next call of ``operation`` is carried out, but answered with a 504."""
        self._lose_answers_to.append(operation)

    @staticmethod
    def webhook_body(*events: tuple[str, str], enterprise_id: str = ENTERPRISE_ID
                     ) -> dict[str, Any]:
        """A General Webhook (events/wh-general.md#request-body): ``events`` are
        (discriminator, entity id) pairs."""
        return {"EnterpriseId": enterprise_id, "IntegrationId": INTEGRATION_ID,
                "Events": [{"Discriminator": discriminator, "Value": {"Id": entity_id}}
                           for discriminator, entity_id in events]}

    def reservation_updated(self, *reservation_ids: str) -> dict[str, Any]:
        return self.webhook_body(*(("ServiceOrderUpdated", rid) for rid in reservation_ids))

    def calls_of(self, operation: str) -> list[dict[str, Any]]:
        """The JSON bodies ``operation`` was called with."""
        return [entry["json"] for entry in self.requests if entry["path"] == PREFIX + operation]

    # ------------------------------------------------------------------- the API

    def routes(self, app: Flask) -> None:
        app.before_request(self._authenticate)
        app.after_request(self._lose_answer_to_operation)
        app.register_error_handler(MewsError, lambda e: self._error(e.status, e.message))
        operations = {
            "configuration/get": self.configuration_get,
            "reservations/getAll/2023-06-06": self.reservations_get_all,
            "companionships/getAll": self.companionships_get_all,
            "customers/getAll": self.customers_get_all,
            "resources/getAll": self.resources_get_all,
            "orderItems/getAll": self.order_items_get_all,
            "orders/add": self.orders_add,
            "orderItems/cancel": self.order_items_cancel,
        }
        for operation, view in operations.items():
            app.add_url_rule(PREFIX + operation, operation, view, methods=["POST"])

    @staticmethod
    def _error(status: int, message: str) -> Response:
        """An error as guidelines/responses.md#response-details shows it."""
        response = jsonify({"Message": message})
        response.status_code = status
        return response

    def _authenticate(self) -> Response | None:
        body = request.get_json(silent=True) or {}
        if not body.get("Client"):
            return self._error(400, "Client is required.")
        if (body.get("ClientToken"), body.get("AccessToken")) != (CLIENT_TOKEN, ACCESS_TOKEN):
            return self._error(401, "Invalid ClientToken or AccessToken.")
        return None

    def _lose_answer_to_operation(self, response: Response) -> Response:
        operation = request.path.removeprefix(PREFIX)
        if response.status_code >= 400 or operation not in self._lose_answers_to:
            return response
        self._lose_answers_to.remove(operation)
        return self._error(504, "mews fake: answer lost")

    @staticmethod
    def _body(*required: str) -> dict[str, Any]:
        body = request.get_json()
        missing = [name for name in required if body.get(name) is None]
        if missing:
            raise MewsError(400, f"Invalid request: {', '.join(missing)} is required.")
        return body

    def _page(self, key: str, items: list[dict[str, Any]], body: dict[str, Any]) -> Response:
        """Cursor pagination (guidelines/pagination.md): ``Count`` items after ``Cursor``."""
        count, cursor = body["Limitation"].get("Count"), body["Limitation"].get("Cursor")
        if not isinstance(count, int) or not 1 <= count <= 1000:
            raise MewsError(400, "Limitation Count must be between 1 and 1000.")
        ids = [item["Id"] for item in items]
        start = ids.index(cursor) + 1 if cursor in ids else 0
        batch = items[start:start + count]
        return jsonify({key: batch, "Cursor": batch[-1]["Id"] if batch else cursor})

    @staticmethod
    def _matches(item: dict[str, Any], body: dict[str, Any], filters: dict[str, str]) -> bool:
        """Every given filter (request property -> item field) holds."""
        return all(body.get(name) is None or item.get(field) in body[name]
                   for name, field in filters.items())

    def _in_enterprise(self, body: dict[str, Any]) -> bool:
        return body.get("EnterpriseIds") is None or ENTERPRISE_ID in body["EnterpriseIds"]

    def configuration_get(self) -> Response:
        """https://mews-systems.gitbook.io/connector-api/operations/configuration#get-configuration"""
        return jsonify({"NowUtc": now(), "Enterprise": self.enterprise})

    def reservations_get_all(self) -> Response:
        """https://mews-systems.gitbook.io/connector-api/operations/reservations#get-all-reservations-ver-2023-06-06"""
        body = self._body("Limitation")
        found = [r for r in self.reservations.values() if self._in_enterprise(body)
                 and self._matches(r, body, {"ReservationIds": "Id", "ServiceIds": "ServiceId",
                                             "AccountIds": "AccountId", "States": "State"})]
        return self._page("Reservations", found, body)

    def companionships_get_all(self) -> Response:
        """https://mews-systems.gitbook.io/connector-api/operations/companionships#get-all-companionships"""
        body = self._body("Extent", "Limitation")
        if not any(body.get(name) for name in ("ReservationIds", "CustomerIds",
                                               "ReservationGroupIds", "CompanionshipIds")):
            raise MewsError(400, "Customers, reservations or reservation groups are required.")
        found = [c for c in self.companionships if self._in_enterprise(body)
                 and self._matches(c, body, {"ReservationIds": "ReservationId",
                                             "CustomerIds": "CustomerId",
                                             "CompanionshipIds": "Id"})]
        return jsonify({**self._page("Companionships", found, body).json,
                        "Customers": None, "Reservations": None, "ReservationGroups": None})

    def customers_get_all(self) -> Response:
        """https://mews-systems.gitbook.io/connector-api/operations/customers#get-all-customers"""
        body = self._body("Extent", "Limitation")
        found = [c for c in self.customers.values() if self._in_enterprise(body)
                 and self._matches(c, body, {"CustomerIds": "Id", "Emails": "Email"})]
        if not body["Extent"].get("Customers"):
            found = []
        return jsonify({**self._page("Customers", found, body).json, "Documents": None})

    def resources_get_all(self) -> Response:
        """https://mews-systems.gitbook.io/connector-api/operations/resources#get-all-resources"""
        body = self._body("Extent", "Limitation")
        found = [r for r in self.resources.values() if self._in_enterprise(body)
                 and self._matches(r, body, {"ResourceIds": "Id"})]
        return self._page("Resources", found if body["Extent"].get("Resources") else [], body)

    def order_items_get_all(self) -> Response:
        """https://mews-systems.gitbook.io/connector-api/operations/orderitems#get-all-order-items"""
        body = self._body("Limitation")
        filters = {"OrderItemIds": "Id", "AccountIds": "AccountId",
                   "ServiceOrderIds": "ServiceOrderId", "ServiceIds": "ServiceId",
                   "Types": "Type", "AccountingStates": "AccountingState"}
        if not any(body.get(name) for name in filters):
            raise MewsError(400, "At least one filter must be specified.")
        found = [i for i in self.order_items.values() if self._in_enterprise(body)
                 and self._matches(i, body, filters)]
        return self._page("OrderItems", found, body)

    def orders_add(self) -> Response:
        """https://mews-systems.gitbook.io/connector-api/operations/orders#add-order

        Negative amounts (rebates) need the integration configured to allow them: this
        fake's is."""
        body = self._body("AccountId", "ServiceId")
        if body["AccountId"] not in self.customers:
            raise MewsError(400, "Invalid AccountId.")
        linked = body.get("LinkedReservationId")
        if linked is not None and linked not in self.reservations:
            raise MewsError(400, "Invalid LinkedReservationId.")
        order_id = str(uuid4())
        self.orders[order_id] = {
            "Id": order_id, "ServiceId": body["ServiceId"], "AccountId": body["AccountId"],
            "AccountType": "Customer", "State": "Confirmed", "Origin": "Connector",
            "LinkedReservationId": linked, "CreatedUtc": now(), "UpdatedUtc": now()}
        for item in body.get("Items") or []:
            self._add_item(order_id, body, item)
        return jsonify({"OrderId": order_id})

    def _add_item(self, order_id: str, order: dict[str, Any], item: dict[str, Any]) -> None:
        unit = item.get("UnitAmount") or {}
        if not (item.get("Name") and isinstance(item.get("UnitCount"), int)
                and unit.get("Currency") and isinstance(unit.get("TaxCodes"), list)
                and isinstance(unit.get("GrossValue"), (int, float))):
            raise MewsError(400, "Invalid item: Name, UnitCount and UnitAmount "
                                 "(Currency, GrossValue, TaxCodes) are required.")
        amount = {"Currency": unit["Currency"], "NetValue": unit["GrossValue"],
                  "GrossValue": unit["GrossValue"],
                  "TaxValues": [{"Code": code, "Value": 0} for code in unit["TaxCodes"]]}
        total = {**amount, "NetValue": unit["GrossValue"] * item["UnitCount"],
                 "GrossValue": unit["GrossValue"] * item["UnitCount"]}
        item_id = str(uuid4())
        self.order_items[item_id] = {
            "Id": item_id, "EnterpriseId": ENTERPRISE_ID, "AccountId": order["AccountId"],
            "AccountType": "Customer", "Notes": order.get("Notes"),
            "ServiceId": order["ServiceId"], "ServiceOrderId": order_id, "BillId": None,
            "AccountingCategoryId": item.get("AccountingCategoryId"),
            "BillingName": item["Name"], "UnitCount": item["UnitCount"], "UnitAmount": amount,
            "Amount": total, "OriginalAmount": total, "RevenueType": "Additional",
            "CreatorProfileId": str(uuid4()), "UpdaterProfileId": str(uuid4()),
            "CreatedUtc": now(), "UpdatedUtc": now(),
            "ConsumedUtc": order.get("ConsumptionUtc") or now(), "CanceledUtc": None,
            "ClosedUtc": None, "StartUtc": None, "AccountingState": "Open",
            "Type": "CustomItem", "Options": {"CanceledWithReservation": False}, "Data": None}

    def order_items_cancel(self) -> Response:
        """https://mews-systems.gitbook.io/connector-api/operations/orderitems#cancel-order-items"""
        ids = self._body("OrderItemIds")["OrderItemIds"]
        if not 1 <= len(ids) <= 10 or any(i not in self.order_items for i in ids):
            raise MewsError(400, "Invalid OrderItemIds.")
        if any(self.order_items[i]["AccountingState"] == "Closed" for i in ids):
            raise MewsError(403, "Closed order items cannot be canceled.")
        for item_id in ids:
            self.order_items[item_id].update(AccountingState="Canceled", CanceledUtc=now(),
                                             UpdatedUtc=now())
        return jsonify({})

