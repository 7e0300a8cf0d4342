"""Cloudbeds API v1.2 faked: reservations with their guest lists, and a folio of custom items.

Payloads follow Cloudbeds's documented shapes (the v1.2 reference at
https://developers.cloudbeds.com/reference/about-pms-api and its OpenAPI models,
e.g. https://github.com/cloudbeds/cloudbeds-api-python, ``cloudbeds_pms_v1_2/docs``).
Where the documentation is silent, the fake says what it assumes.
"""
from __future__ import annotations

import itertools
import time
from datetime import date
from typing import Any

from flask import Flask, Response, jsonify, request

from tests.pms.server import FakeVendor


class FakeCloudbeds(FakeVendor):
    name = "cloudbeds"
    api_key = "cbat_test_key"
    property_id = "173201"
    property_name = "Test Hotel Shanghai"
    currency = "CNY"

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        self.reservations: dict[str, dict[str, Any]] = {}
        #: soldProductID -> the custom item as posted, with ``voided``.
        self.sold_products: dict[str, dict[str, Any]] = {}
        #: getReservations never answers more than this many rows a page (Cloudbeds: 100).
        self.max_page_size = 100
        #: A repeated referenceID answers with the notice only (the docs show no ids then).
        self.repeat_without_ids = False
        #: The HTTP status of "Reservation not found" (Cloudbeds also says it under a 200).
        self.not_found_status = 404
        self._ids = itertools.count(1)
        self.requests.clear()

    # --- the property's state, for tests --------------------------------------------------------
    def book(self, reservation_id: str, *guests: tuple[str, str, str], room: str | None = "1204",
             status: str = "confirmed", start: date, end: date,
             property_id: str | None = None) -> None:
        """A reservation; ``guests`` are (guestID, first, last name), the first the main one."""
        reservation = {
            "propertyID": property_id or self.property_id, "reservationID": reservation_id,
            "guestName": f"{guests[0][1]} {guests[0][2]}", "guestEmail": "",
            "isAnonymized": False, "guestList": {}, "dateCreated": "2025-01-02 10:00:00",
            "dateModified": "2025-01-02 10:00:00", "estimatedArrivalTime": "14:00",
            "source": "Website", "sourceID": "s-1", "thirdPartyIdentifier": "",
            "status": status, "total": 1200.0, "balance": 0.0, "balanceDetailed": [],
            "assigned": [], "unassigned": [], "cardsOnFile": [], "customFields": [],
            "startDate": start.isoformat(), "endDate": end.isoformat(),
        }
        for number, (guest_id, first, last) in enumerate(guests):
            reservation["guestList"][guest_id] = {
                "guestID": guest_id, "guestFirstName": first, "guestLastName": last,
                "guestGender": "N/A", "guestEmail": f"{first.lower()}@example.com",
                "guestPhone": "+86 21 5555 0100", "guestCellPhone": "", "guestCountry": "CN",
                "isAnonymized": False, "isMainGuest": number == 0, "customFields": [],
                "unassignedRooms": [],
            }
        self.reservations[reservation_id] = reservation
        self.move(reservation_id, room)

    def set_status(self, reservation_id: str, status: str) -> None:
        self.reservations[reservation_id]["status"] = status

    def move(self, reservation_id: str, room: str | None) -> None:
        """Assign the reservation (and each of its guests) to ``room``; None unassigns it."""
        reservation = self.reservations[reservation_id]
        rooms = [] if room is None else [{
            "roomTypeName": "Deluxe King", "roomTypeNameShort": "DK",
            "roomTypeIsVirtual": False, "dormRoomName": "", "roomTypeID": "501",
            "subReservationID": f"{reservation_id}-1", "roomName": room, "roomID": f"501-{room}",
            "startDate": reservation["startDate"], "endDate": reservation["endDate"],
            "adults": str(len(reservation["guestList"])), "children": "0", "dailyRates": [],
            "roomTotal": 1200.0}]
        reservation["assigned"] = rooms
        for guest in reservation["guestList"].values():
            guest.update(assignedRoom=room is not None, roomID=rooms[0]["roomID"] if rooms else "",
                         roomName=room or "", roomTypeName="Deluxe King" if rooms else "",
                         roomTypeIsVirtual=False,
                         rooms=[{key: rooms[0][key] for key in (
                             "roomTypeID", "roomTypeName", "roomID", "roomName",
                             "subReservationID")}] if rooms else [])

    def webhook_body(self, event: str, reservation_id: str, **extra: Any) -> dict[str, Any]:
        """A webhook as Cloudbeds posts it (https://developers.cloudbeds.com/docs/webhooks-1):
        ``reservation/status_changed`` carries the new status, and
        ``reservation/accommodation_changed`` the new room (assumed: roomID and roomName)."""
        reservation = self.reservations[reservation_id]
        body = {"version": "1.0", "event": event, "timestamp": time.time(),
                "propertyID": int(reservation["propertyID"]),
                "propertyID_str": reservation["propertyID"], "reservationID": reservation_id}
        if event == "reservation/status_changed":
            body["status"] = reservation["status"]
        if event == "reservation/accommodation_changed" and reservation["assigned"]:
            assigned = reservation["assigned"][0]
            body.update(subReservationID=assigned["subReservationID"],
                        roomID=assigned["roomID"], roomName=assigned["roomName"])
        return {**body, **extra}

    def folio(self, reservation_id: str) -> list[dict[str, Any]]:
        return [item for item in self.sold_products.values()
                if item["reservationID"] == reservation_id]

    # --- the API --------------------------------------------------------------------------------
    def routes(self, app: Flask) -> None:
        app.before_request(self._authenticate)
        app.add_url_rule("/api/v1.2/getReservation", view_func=self.get_reservation)
        app.add_url_rule("/api/v1.2/getReservations", view_func=self.get_reservations)
        app.add_url_rule("/api/v1.2/getHotelDetails", view_func=self.get_hotel_details)
        app.add_url_rule("/api/v1.2/postCustomItem", view_func=self.post_custom_item,
                         methods=["POST"])
        app.add_url_rule("/api/v1.2/postVoidItem", view_func=self.post_void_item,
                         methods=["POST"])

    def _authenticate(self) -> Response | None:
        """A wrong key: HTTP 401 with Cloudbeds's error envelope (message text assumed)."""
        if request.headers.get("x-api-key") == self.api_key:
            return None
        return _refused("Invalid API key. Please check your credentials.", 401)

    def get_reservation(self) -> Response:
        """https://developers.cloudbeds.com/reference/get_getreservation-2"""
        reservation = self.reservations.get(request.args.get("reservationID", ""))
        if reservation is None:
            return _refused("Reservation not found", self.not_found_status)
        return jsonify({"success": True, "data": reservation})

    def get_reservations(self) -> Response:
        """https://developers.cloudbeds.com/reference/get_getreservations-2: ``status`` (comma
        separated), ``pageNumber`` from 1, ``pageSize``; ``count`` rows of ``total``. The
        guestList only with ``includeGuestsDetails=true``."""
        statuses = request.args.get("status", "").split(",")
        found = [r for r in self.reservations.values()
                 if r["propertyID"] == request.args.get("propertyID", self.property_id)
                 and (statuses == [""] or r["status"] in statuses)]
        size = min(int(request.args.get("pageSize", 100)), self.max_page_size)
        first = (int(request.args.get("pageNumber", 1)) - 1) * size
        details = request.args.get("includeGuestsDetails") == "true"
        rows = [_row(r, details) for r in found[first:first + size]]
        return jsonify({"success": True, "data": rows, "count": len(rows), "total": len(found)})

    def get_hotel_details(self) -> Response:
        """https://developers.cloudbeds.com/reference/get_gethoteldetails-2; another
        property's id is refused with HTTP 200 and ``success: false`` (as Cloudbeds does
        for ids the key cannot reach)."""
        if request.args.get("propertyID") != self.property_id:
            return _refused("You don't have access to property ID " +
                            request.args.get("propertyID", ""), 200)
        return jsonify({"success": True, "data": {
            "propertyID": self.property_id, "organizationID": "9001",
            "propertyName": self.property_name, "propertyType": "Hotel",
            "propertyCurrency": {"currencyCode": self.currency, "currencySymbol": "¥",
                                 "currencyPosition": "before"},
            "propertyPrimaryLanguage": "zh", "propertyPhone": "+86 21 5555 0000",
            "propertyEmail": "front@example.com"}})

    def post_custom_item(self) -> Response:
        """https://developers.cloudbeds.com/reference/post_postcustomitem-2 (form fields,
        ``items[0][itemPrice]`` in the property's currency). A ``referenceID`` already used
        creates nothing; the answer then carries a notice and (assumed) the first item's ids."""
        form = request.form
        reservation_id = form.get("reservationID", "")
        if reservation_id not in self.reservations:
            return _refused("Reservation not found", 200)
        for sold_id, item in self.sold_products.items():
            if item["referenceID"] and item["referenceID"] == form.get("referenceID"):
                ids = ({} if self.repeat_without_ids else
                       {"soldProductID": sold_id, "transactionID": item["transactionID"]})
                return jsonify({"success": True, "data": {
                    **ids, "notice": "An item with this referenceID was already posted. "
                                     "Nothing was created or updated."}})
        sold_id = str(next(self._ids) + 8800)
        self.sold_products[sold_id] = {
            "reservationID": reservation_id, "referenceID": form.get("referenceID", ""),
            "itemName": form["items[0][itemName]"], "itemPrice": form["items[0][itemPrice]"],
            "itemQuantity": form["items[0][itemQuantity]"], "currency": self.currency,
            "transactionID": f"T{sold_id}", "voided": False}
        return jsonify({"success": True, "data": {"soldProductID": sold_id,
                                                  "transactionID": f"T{sold_id}"}})

    def post_void_item(self) -> Response:
        """https://developers.cloudbeds.com/reference/post_postvoiditem-2: ``{"success": true}``
        and nothing more (assumed: voiding a voided item again answers the same)."""
        item = self.sold_products.get(request.form.get("soldProductID", ""))
        if item is None or item["reservationID"] != request.form.get("reservationID"):
            return _refused("Item not found", 200)
        item["voided"] = True
        return jsonify({"success": True})


def _row(reservation: dict[str, Any], details: bool) -> dict[str, Any]:
    """A reservation as getReservations lists it."""
    main = next(iter(reservation["guestList"].values()))
    row = {key: reservation[key] for key in (
        "propertyID", "reservationID", "dateCreated", "dateModified", "status", "guestName",
        "startDate", "endDate", "balance", "thirdPartyIdentifier")}
    row.update(guestID=main["guestID"], profileID=main["guestID"], sourceName="Website",
               sourceID="s-1", adults=len(reservation["guestList"]), children=0)
    if details:
        row["guestList"] = reservation["guestList"]
    return row


def _refused(message: str, status: int) -> Response:
    response = jsonify({"success": False, "message": message})
    response.status_code = status
    return response
