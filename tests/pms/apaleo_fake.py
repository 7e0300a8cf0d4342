"""Apaleo faked: its identity server, and the Booking, Inventory and Finance calls of the adapter.

Payloads follow Apaleo's OpenAPI documents (https://api.apaleo.com/swagger/index.html,
one per API: Booking V1, Inventory V1, Finance V1) and the guides on
https://apaleo.dev; fields an adapter does not read are kept to a representative
few. One account, one property ``TEST`` (Asia/Shanghai, CNY).

State is plain data: :attr:`reservations` (ReservationModel dicts by id) and
:attr:`folios` (FolioModel dicts by id, one guest folio per reservation, with
its ``charges`` and ``allowances``). Tests change it with :meth:`book`,
:meth:`check_in`, :meth:`move`, ... and build webhooks with :meth:`webhook_body`.
"""
from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import wraps
from typing import Any, Callable
from zoneinfo import ZoneInfo

from flask import Flask, Response, jsonify, request

from tests.pms.server import FakeVendor

PROPERTY_ID = "TEST"
CLIENT_ID, CLIENT_SECRET = "TEST-SP-COMMUNITY", "client-secret"
ZONE = ZoneInfo("Asia/Shanghai")
CURRENCY = "CNY"
#: What the fake's VAT types charge (Finance V1 GET /finance/v1/types/vat gives the real ones).
VAT_PERCENT = {"Normal": Decimal(6), "Reduced": Decimal(3), "Without": Decimal(0)}


def guest(first: str, last: str, email: str | None = None,
          language: str | None = None) -> dict[str, Any]:
    """A GuestModel (Booking V1): Apaleo keeps guests on the reservation, without ids."""
    model: dict[str, Any] = {"firstName": first, "lastName": last}
    if email:
        model["email"] = email
    if language:
        model["preferredLanguage"] = language
    return model


def _iso(moment: datetime) -> str:
    """Apaleo's date-times: ISO 8601 without fractions, with the UTC offset."""
    return moment.isoformat(timespec="seconds")


def _now() -> str:
    return _iso(datetime.now(ZONE))


class ApaleoFake(FakeVendor):
    name = "apaleo"

    def __init__(self) -> None:
        self.clients = {CLIENT_ID: CLIENT_SECRET}
        self.tokens: set[str] = set()
        self.reservations: dict[str, dict[str, Any]] = {}
        self.folios: dict[str, dict[str, Any]] = {}
        #: Idempotency-Key -> the first answer (status, body), as Apaleo keeps it.
        self.replies: dict[str, tuple[int, dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._lose_postings = 0
        super().__init__()

    def reset(self) -> None:
        """Forget every reservation, folio, answer and request (tokens stay valid)."""
        self.reservations.clear()
        self.folios.clear()
        self.replies.clear()
        self.requests.clear()
        self._lose_postings = 0

    # --- the hotel's side -------------------------------------------------------------------
    def book(self, reservation_id: str, *guests: dict[str, Any], status: str = "Confirmed",
             unit: str | None = None, property_id: str = PROPERTY_ID,
             arrival: date | None = None, nights: int = 3) -> dict[str, Any]:
        """A reservation of ``guests`` (the first is the primary guest) and its guest folio."""
        arrival = arrival or datetime.now(ZONE).date() - timedelta(days=1)
        booking_id = reservation_id.split("-")[0]
        reservation = {
            "id": reservation_id, "bookingId": booking_id, "status": status,
            "property": {"id": property_id, "code": property_id, "name": "Test Hotel",
                         "description": "The test hotel"},
            "ratePlan": {"id": f"{property_id}-FLEX-DBL", "code": "FLEX", "name": "Flexible",
                         "isSubjectToCityTax": False},
            "unitGroup": {"id": f"{property_id}-DBL", "code": "DBL", "name": "Double",
                          "type": "BedRoom"},
            "totalGrossAmount": {"amount": 600.0 * nights, "currency": CURRENCY},
            "arrival": _iso(datetime.combine(arrival, time(15), ZONE)),
            "departure": _iso(datetime.combine(arrival + timedelta(days=nights), time(11), ZONE)),
            "created": _now(), "modified": _now(), "adults": len(guests),
            "channelCode": "Direct", "guaranteeType": "PM6Hold",
            "balance": {"amount": 0.0, "currency": CURRENCY},
            "primaryGuest": guests[0], "additionalGuests": list(guests[1:]),
        }
        self.reservations[reservation_id] = reservation
        if unit:
            self.move(reservation_id, unit)
        folio_id = f"{reservation_id}-1"
        self.folios[folio_id] = {
            "id": folio_id, "created": _now(), "updated": _now(), "type": "Guest",
            "debitor": {"firstName": guests[0].get("firstName"), "name": guests[0]["lastName"]},
            "reservation": {"id": reservation_id, "bookingId": booking_id},
            "property": {"id": property_id, "code": property_id, "name": "Test Hotel"},
            "isMainFolio": True, "isEmpty": True, "status": "Open",
            "balance": {"amount": 0.0, "currency": CURRENCY}, "charges": [], "allowances": [],
        }
        return reservation

    def check_in(self, reservation_id: str, unit: str = "1204") -> None:
        self.move(reservation_id, unit)
        self._set(reservation_id, status="InHouse", checkInTime=_now())

    def check_out(self, reservation_id: str) -> None:
        self._set(reservation_id, status="CheckedOut", checkOutTime=_now())

    def reverse_check_in(self, reservation_id: str) -> None:
        """The desk takes a check-in back: the reservation is Confirmed again."""
        self.reservations[reservation_id].pop("checkInTime", None)
        self._set(reservation_id, status="Confirmed")

    def cancel(self, reservation_id: str) -> None:
        self._set(reservation_id, status="Canceled", cancellationTime=_now())

    def no_show(self, reservation_id: str) -> None:
        self._set(reservation_id, status="NoShow", noShowTime=_now())

    def move(self, reservation_id: str, unit: str) -> None:
        """Assign the unit (an EmbeddedUnitModel): ``unit`` is its name, e.g. "1204"."""
        self._set(reservation_id, unit={"id": f"{PROPERTY_ID}-{unit}", "name": unit,
                                        "description": f"Room {unit}",
                                        "unitGroupId": f"{PROPERTY_ID}-DBL"})

    def lose_next_posting(self, times: int = 1) -> None:
        """:meth:`lose_next` aimed at the next ``times`` POSTs to the Finance API: the
        reads before a posting are answered, the posting is made and its answer lost."""
        self._lose_postings += times

    def revoke_tokens(self) -> None:
        """Every access token given so far is refused from now on (answered 401)."""
        self.tokens.clear()

    def _set(self, reservation_id: str, **values: Any) -> None:
        self.reservations[reservation_id].update(values, modified=_now())

    def folio_of(self, reservation_id: str) -> dict[str, Any]:
        return self.folios[f"{reservation_id}-1"]

    def webhook_body(self, reservation_id: str, type_: str, topic: str = "Reservation",
                     property_id: str = PROPERTY_ID) -> dict[str, Any]:
        """An event as https://apaleo.dev/guides/webhook/webhooks-payload.html shows it."""
        return {"topic": topic, "type": type_, "id": f"evt-{next(self._ids)}",
                "accountId": "TEST", "propertyId": property_id,
                "timestamp": int(datetime.now(ZONE).timestamp() * 1000),
                "clientId": "TEST-AC-SOMEAPP", "subjectId": "6f1c719d-1f45-4331-a30c-c6da0f642b60",
                "data": {"entityId": reservation_id}}

    # --- the API -----------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        app.before_request(self._check_bearer)
        app.before_request(self._aim_lost_answer)
        app.post("/connect/token")(self.token)
        app.get("/booking/v1/reservations/<reservation_id>")(self.reservation)
        app.get("/booking/v1/reservations")(self.reservation_list)
        app.get("/inventory/v1/properties/<property_id>")(self.property)
        app.get("/finance/v1/folios")(self.folio_list)
        app.get("/finance/v1/folios/<folio_id>")(self.folio)
        app.post("/finance/v1/folio-actions/<folio_id>/charges")(_once(self, self.add_charge))
        app.post("/finance/v1/folio-actions/<folio_id>/allowances")(
            _once(self, self.add_folio_allowance))
        app.post("/finance/v1/folio-actions/<folio_id>/charges/<charge_id>/allowances")(
            _once(self, self.add_charge_allowance))

    def token(self) -> Response:
        """POST /connect/token, client credentials as basic auth
        (https://apaleo.dev/guides/oauth-connection/simple-client). A wrong client is
        refused as Apaleo's identity server (IdentityServer) does: 400 invalid_client."""
        auth = request.authorization
        if (request.form.get("grant_type") != "client_credentials" or auth is None
                or self.clients.get(auth.username or "") != auth.password):
            return _json({"error": "invalid_client"}, 400)
        token = f"token-{next(self._ids)}"
        self.tokens.add(token)
        return _json({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    def _check_bearer(self) -> Response | None:
        """Every API call carries a token the identity server gave; else 401 with an empty
        body and a WWW-Authenticate header, as Apaleo answers."""
        if request.path == "/connect/token":
            return None
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if given in self.tokens:
            return None
        return Response(status=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})

    def _aim_lost_answer(self) -> None:
        if (self._lose_postings and request.method == "POST"
                and request.path.startswith("/finance/")):
            self._lose_postings -= 1
            self.lose_next()

    def reservation(self, reservation_id: str) -> Response:
        """GET /booking/v1/reservations/{id} (Booking V1, BookingReservationsByIdGet):
        a ReservationModel; 404, no body, for an id it does not know."""
        found = self.reservations.get(reservation_id)
        return _json(found) if found is not None else Response(status=404)

    def reservation_list(self) -> Response:
        """GET /booking/v1/reservations?propertyIds=&status=&pageNumber=&pageSize=
        (Booking V1, BookingReservationsGet): {reservations, count}; 204, no body, when the
        page is empty. List filters are comma-separated."""
        properties, statuses = _listed("propertyIds"), _listed("status")
        matching = [r for r in self.reservations.values()
                    if (not properties or r["property"]["id"] in properties)
                    and (not statuses or r["status"] in statuses)]
        page = _page(matching)
        if not page:
            return Response(status=204)
        return _json({"reservations": page, "count": len(matching)})

    def property(self, property_id: str) -> Response:
        """GET /inventory/v1/properties/{id} (Inventory V1, InventoryPropertiesByIdGet)."""
        if property_id != PROPERTY_ID:
            return Response(status=404)
        return _json({
            "id": PROPERTY_ID, "code": PROPERTY_ID, "isTemplate": False, "name": "Test Hotel",
            "description": "The test hotel", "companyName": "Test Hotel Co., Ltd.",
            "location": {"addressLine1": "1 Test Road", "postalCode": "200000",
                         "city": "Shanghai", "countryCode": "CN"},
            "timeZone": "Asia/Shanghai", "currencyCode": CURRENCY, "created": _now(),
            "status": "Live", "isArchived": False})

    def folio_list(self) -> Response:
        """GET /finance/v1/folios?reservationIds=&type=&excludeClosed= (Finance V1,
        FinanceFoliosGet): {folios: [FolioItemModel], count}; 204 when none match."""
        reservations, types = _listed("reservationIds"), _listed("type")
        open_only = request.args.get("excludeClosed") == "true"
        matching = [_item(f) for f in self.folios.values()
                    if (not reservations or f["reservation"]["id"] in reservations)
                    and (not types or f["type"] in types)
                    and not (open_only and f["status"] == "Closed")]
        if not matching:
            return Response(status=204)
        return _json({"folios": matching, "count": len(matching)})

    def folio(self, folio_id: str) -> Response:
        """GET /finance/v1/folios/{id} (Finance V1, FinanceFoliosByIdGet): a FolioModel,
        with its charges and allowances."""
        found = self.folios.get(folio_id)
        return _json(found) if found is not None else Response(status=404)

    def add_charge(self, folio_id: str) -> Response:
        """POST /finance/v1/folio-actions/{folioId}/charges (Finance V1,
        FinanceFolio-actionsByFolioIdChargesPost; CreateChargeModel in, AddedChargeModel
        {id} out)."""
        folio, body = self.folios.get(folio_id), request.get_json(silent=True) or {}
        refusal = _refusal(folio, body, ("serviceType", "vatType", "name", "amount"))
        if refusal:
            return refusal
        charge = {"id": f"{folio_id}-{len(folio['charges']) + 1}",
                  "serviceType": body["serviceType"], "name": body["name"], "isPosted": False,
                  "serviceDate": datetime.now(ZONE).date().isoformat(), "created": _now(),
                  "amount": _amount(body["amount"], body["vatType"]),
                  "receipt": body.get("receipt"), "quantity": body.get("quantity", 1)}
        folio["charges"].append(charge)
        return _json({"id": charge["id"]})

    def add_folio_allowance(self, folio_id: str) -> Response:
        """POST /finance/v1/folio-actions/{folioId}/allowances (Finance V1; a
        CreateAllowanceForFolioModel in, {id} out)."""
        folio, body = self.folios.get(folio_id), request.get_json(silent=True) or {}
        refusal = _refusal(folio, body, ("serviceType", "vatType", "reason", "amount"))
        if refusal:
            return refusal
        return _json({"id": self._allow(folio, body, body["vatType"], None)})

    def add_charge_allowance(self, folio_id: str, charge_id: str) -> Response:
        """POST /finance/v1/folio-actions/{folioId}/charges/{chargeId}/allowances (Finance
        V1; CreateAllowanceForChargeModel {reason, amount} in, {id} out). "Allowance value
        posted must not exceed source charge minus allowances posted for this charge"."""
        folio, body = self.folios.get(folio_id), request.get_json(silent=True) or {}
        refusal = _refusal(folio, body, ("reason", "amount"))
        if refusal:
            return refusal
        charge = next((c for c in folio["charges"] if c["id"] == charge_id), None)
        if charge is None:
            return Response(status=404)
        if Decimal(str(body["amount"]["amount"])) > self.unallowed(folio, charge):
            return _json({"messages": ["The allowance exceeds what is left of the charge."]},
                         422)
        vat_type = charge["amount"]["vatType"]
        return _json({"id": self._allow(folio, body, vat_type, charge_id)})

    def _allow(self, folio: dict[str, Any], body: dict[str, Any], vat_type: str,
               charge_id: str | None) -> str:
        allowance = {"id": f"{folio['id']}-A{len(folio['allowances']) + 1}",
                     "amount": _amount(body["amount"], vat_type), "reason": body["reason"],
                     "serviceType": body.get("serviceType", "Other"),
                     "serviceDate": datetime.now(ZONE).date().isoformat(), "created": _now()}
        if charge_id:
            allowance["sourceChargeId"] = charge_id
        folio["allowances"].append(allowance)
        return allowance["id"]

    @staticmethod
    def unallowed(folio: dict[str, Any], charge: dict[str, Any]) -> Decimal:
        """What is left of a charge after the allowances posted for it (0: voided)."""
        allowed = sum((Decimal(str(a["amount"]["grossAmount"])) for a in folio["allowances"]
                       if a.get("sourceChargeId") == charge["id"]), Decimal(0))
        return Decimal(str(charge["amount"]["grossAmount"])) - allowed


# ------------------------------------------------------------------------------- helpers

def _once(fake: ApaleoFake, handler: Callable[..., Response]) -> Callable[..., Response]:
    """Apaleo's Idempotency-Key: "We'll always send back the same response for requests
    made with the same key" (Finance V1, on its POST actions)."""
    @wraps(handler)
    def replying(**kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key and key in fake.replies:
            status, body = fake.replies[key]
            return _json(body, status)
        response = handler(**kwargs)
        if key:
            fake.replies[key] = (response.status_code, response.get_json(silent=True) or {})
        return response
    return replying


def _refusal(folio: dict[str, Any] | None, body: dict[str, Any],
             required: tuple[str, ...]) -> Response | None:
    """404 for an unknown folio; 422 {messages} for a body Apaleo would not take."""
    if folio is None:
        return Response(status=404)
    missing = [name for name in required if not body.get(name)]
    amount = body.get("amount") or {}
    if missing or not isinstance(amount.get("amount"), (int, float)):
        return _json({"messages": [f"'{name}' is required." for name in missing]
                      or ["'amount.amount' must be a number."]}, 422)
    if amount.get("currency") != CURRENCY:
        return _json({"messages": [f"The currency must be {CURRENCY}."]}, 422)
    if folio["status"] == "Closed":
        return _json({"messages": ["The folio is closed."]}, 422)
    return None


def _amount(money: dict[str, Any], vat_type: str) -> dict[str, Any]:
    """An AmountModel: the gross amount posted, its net and VAT."""
    gross = Decimal(str(money["amount"]))
    percent = VAT_PERCENT.get(vat_type, Decimal(0))
    net = (gross * 100 / (100 + percent)).quantize(Decimal("0.01"))
    return {"grossAmount": float(gross), "netAmount": float(net), "vatType": vat_type,
            "vatPercent": float(percent), "currency": money["currency"]}


def _item(folio: dict[str, Any]) -> dict[str, Any]:
    """A FolioItemModel: the list leaves out charges and allowances unless expanded."""
    expanded = set(_listed("expand"))
    return {k: v for k, v in folio.items()
            if k not in ("charges", "allowances") or k in expanded}


def _listed(name: str) -> list[str]:
    return [v for value in request.args.getlist(name) for v in value.split(",") if v]


def _page(items: list[Any]) -> list[Any]:
    """Apaleo's paging: pageNumber from 1, pageSize; all of it without them."""
    if "pageNumber" not in request.args:
        return items
    number, size = int(request.args["pageNumber"]), int(request.args.get("pageSize", 100))
    return items[(number - 1) * size:number * size]


def _json(body: Any, status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response
