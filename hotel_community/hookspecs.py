"""What a plugin can provide: PMS adapters and payment providers.

A plugin is a module (or object) with functions marked ``@hookimpl``, exposed
through the ``hotel_community.plugins`` entry point group, exactly as the
built-in plugins in ``hotel_community.plugins`` are::

    # setup.cfg of a hotel's own package
    [options.entry_points]
    hotel_community.plugins =
        my_pms = my_hotel.community_pms

    # my_hotel/community_pms.py
    from hotel_community import hookimpl
    from hotel_community.hookspecs import PMSAdapter

    class MyPMS(PMSAdapter):
        name = "my_pms"
        ...

    @hookimpl
    def hotel_community_pms_adapters():
        return [MyPMS()]
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Iterable

import pluggy

if TYPE_CHECKING:
    from flask import Request

    from hotel_community.models import Property, Stay
    from hotel_community.services.checkin import StayEvent

PROJECT = "hotel_community"
ENTRY_POINT_GROUP = "hotel_community.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class PMSAdapter(ABC):
    """An adapter to one property management system.

    The core applies stay *snapshots* (:class:`~hotel_community.services.checkin.StayEvent`);
    an adapter turns its vendor's webhook into them, fetching the reservation's
    current state from the vendor when the webhook carries only ids.
    """

    #: Short, stable name; the vendor webhook is served at
    #: ``<prefix>/api/v1/pms/<name>/webhook``.
    name: str
    #: Human-readable name shown to staff.
    label: str

    @abstractmethod
    def events_from_webhook(self, request: Request, prop: Property) -> Iterable[StayEvent]:
        """Verify the vendor's webhook request and return the stay events it means.

        Raise :class:`~hotel_community.errors.AuthenticationFailed` for a request
        that is not genuinely from the vendor.
        """

    def post_folio_charge(self, prop: Property, stay: Stay, charge: dict[str, Any]) -> str:
        """Post a charge to the stay's folio; return the PMS's charge id.

        ``charge`` has ``amount`` (minor units), ``currency``, ``description``
        and ``idempotency_key``. Adapters whose PMS has no folio API keep the
        default, and room charges go to the front desk queue instead.
        """
        raise NotImplementedError


class PaymentProvider(ABC):
    """A way to pay: one order flow for all providers (card, room charge, desk)."""

    #: Short, stable name stored with every payment.
    name: str
    #: Human-readable name shown to guests and staff.
    label: str

    def is_available(self, prop: Property, stay: Stay | None) -> bool:
        """Whether a guest (signed in to ``stay``, or anonymous) may pay this way."""
        return True

    @abstractmethod
    def start_payment(self, payment: dict[str, Any]) -> dict[str, Any]:
        """Begin paying ``payment`` (``amount`` in minor units, ``currency``,
        ``reference``, ``idempotency_key``); return what the guest's page needs
        next, e.g. ``{"status": "pending", "instructions": ...}``."""

    def refund(self, payment: dict[str, Any], amount: int) -> dict[str, Any]:
        """Refund ``amount`` minor units of a completed payment."""
        raise NotImplementedError


@hookspec
def hotel_community_pms_adapters() -> list[PMSAdapter]:
    """Return the PMS adapters this plugin provides."""


@hookspec
def hotel_community_payment_providers() -> list[PaymentProvider]:
    """Return the payment providers this plugin provides."""
