"""The Mews Connector API (https://mews-systems.gitbook.io/connector-api/), as the adapter uses it.

Every operation is a ``POST <base_url>/api/connector/v1/<operation>`` whose JSON
body carries the integration's ``ClientToken``, ``AccessToken`` and ``Client``.
Lists are read with cursor pagination (``Limitation: {Count, Cursor}``), and are
always narrowed to the property's enterprise (``EnterpriseIds``).
"""
from __future__ import annotations

from typing import Any, Mapping

from hotel_community.pms_http import VendorApi

PRODUCTION = "https://api.mews.com"
#: Items per page of a ``getAll`` (Mews's maximum).
PAGE_SIZE = 1000
#: Order items ``orderItems/cancel`` takes at once.
CANCEL_BATCH = 10
#: Ids Mews takes in one filter (``ReservationIds``, ``CustomerIds``, ...).
ID_BATCH = 1000
#: The reservation states a reservation fetch asks for: all of them (the 2017 version of
#: ``reservations/getAll`` left out ``Canceled`` unless asked; asking costs nothing).
RESERVATION_STATES = ("Inquired", "Requested", "Optional", "Confirmed", "Started", "Processed",
                      "Canceled")


class Connector:
    """One property's Mews integration: its tokens, enterprise and stay service."""

    def __init__(self, settings: Mapping[str, str]) -> None:
        self.api = VendorApi("Mews", settings["base_url"])
        self.credentials = {"ClientToken": settings["client_token"],
                            "AccessToken": settings["access_token"],
                            "Client": settings["client"]}
        self.enterprise_id = settings["enterprise_id"]
        self.service_id = settings["service_id"]

    def call(self, operation: str, **body: Any) -> dict[str, Any]:
        return self.api.post(f"api/connector/v1/{operation}",
                             json={**self.credentials, **body}) or {}

    def get_all(self, operation: str, key: str, **body: Any) -> list[dict[str, Any]]:
        """Every item of a paged ``getAll``, following ``Cursor`` until a short page."""
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.call(operation, EnterpriseIds=[self.enterprise_id], **body,
                             Limitation={"Count": PAGE_SIZE, "Cursor": cursor})
            batch = page.get(key) or []
            items += batch
            cursor = page.get("Cursor")
            if len(batch) < PAGE_SIZE or not cursor:
                return items

    def get_all_of(self, operation: str, key: str, ids_filter: str, ids: list[str],
                   **body: Any) -> list[dict[str, Any]]:
        """:meth:`get_all` for a list of ids of any length, ``ID_BATCH`` ids a request
        (Mews refuses more in one filter)."""
        items: list[dict[str, Any]] = []
        for start in range(0, len(ids), ID_BATCH):
            items += self.get_all(operation, key, **{ids_filter: ids[start:start + ID_BATCH]},
                                  **body)
        return items

    # ----------------------------------------------------------------------- operations

    def configuration(self) -> dict[str, Any]:
        return self.call("configuration/get")

    def reservations(self, **filters: Any) -> list[dict[str, Any]]:
        """Reservations of the stay service (ver 2023-06-06), in any state unless ``States``."""
        return self.get_all("reservations/getAll/2023-06-06", "Reservations",
                            ServiceIds=[self.service_id],
                            **{"States": list(RESERVATION_STATES), **filters})

    def companionships(self, ids_filter: str, ids: list[str]) -> list[dict[str, Any]]:
        """Companionships of the reservations (``ReservationIds``) or customers
        (``CustomerIds``) named."""
        return self.get_all_of("companionships/getAll", "Companionships", ids_filter, ids,
                               Extent={"Customers": False, "Reservations": False,
                                       "ReservationGroups": False})

    def customers(self, customer_ids: list[str]) -> list[dict[str, Any]]:
        return self.get_all_of("customers/getAll", "Customers", "CustomerIds", customer_ids,
                               Extent={"Customers": True, "Documents": False,
                                       "Addresses": False})

    def resources(self, resource_ids: list[str]) -> list[dict[str, Any]]:
        return self.get_all_of("resources/getAll", "Resources", "ResourceIds", resource_ids,
                               Extent={"Resources": True, "Inactive": True})

    def order_items(self, **filters: Any) -> list[dict[str, Any]]:
        return self.get_all("orderItems/getAll", "OrderItems", **filters)

    def add_order(self, **order: Any) -> str:
        return self.call("orders/add", **order)["OrderId"]

    def cancel_order_items(self, item_ids: list[str]) -> None:
        for start in range(0, len(item_ids), CANCEL_BATCH):
            self.call("orderItems/cancel", OrderItemIds=item_ids[start:start + CANCEL_BATCH])
