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
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Iterable

import pluggy

if TYPE_CHECKING:
    from flask import Request

    from hotel_community.models import Order, Property, Stay
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


@dataclass(frozen=True)
class PaymentStart:
    """What :meth:`PaymentProvider.start_payment` did."""

    #: ``"paid"`` when the money is settled at once (a room charge), else ``"pending"``.
    status: str
    #: The provider's id for the payment (a Stripe PaymentIntent id), stored on the order.
    provider_ref: str | None = None


@dataclass(frozen=True)
class PaymentUpdate:
    """What the provider says happened to a payment (from a webhook or when asked)."""

    provider_ref: str
    #: ``"succeeded"`` or ``"failed"``.
    outcome: str
    #: What was paid, in minor units, to check against the order; ``None`` if not known.
    amount: int | None = None
    currency: str | None = None
    message: str = ""


class PaymentProvider(ABC):
    """A way to pay. One order flow for all providers (card, room charge, desk).

    The core reserves the stock and stores the order before calling
    :meth:`start_payment`, and applies every :class:`PaymentUpdate` exactly
    once, so a provider only speaks to its payment system.
    """

    #: Short, stable name stored with every order.
    name: str
    #: Shown to guests and staff (may be a lazy translation).
    label: str
    #: How long a pending payment holds the reserved stock before it goes back on sale.
    hold: timedelta = timedelta(minutes=30)
    #: Template included on the guest's order page while the payment is pending
    #: (the card form), rendered with ``order`` and ``payment`` (from :meth:`page_context`).
    template: str | None = None

    def is_available(self, prop: Property, stay: Stay | None) -> bool:
        """Whether a guest (in house on ``stay``, or ``None``) may pay this way now."""
        return True

    @abstractmethod
    def start_payment(self, order: Order) -> PaymentStart:
        """Begin paying ``order``. Runs inside the core's transaction: rows the
        provider adds to the session are committed with the order's new state."""

    def page_context(self, order: Order) -> dict[str, Any]:
        """What :attr:`template` needs to let the guest pay (e.g. a client secret)."""
        return {}

    def confirm(self, order: Order, data: dict[str, Any]) -> dict[str, Any]:
        """A step the payment page's script asks the server to take (JSON in, JSON out)."""
        raise NotImplementedError

    def payment_status(self, order: Order) -> PaymentUpdate | None:
        """Ask the payment system how a pending payment stands; ``None`` if still open."""
        return None

    def webhook_updates(self, request: Request) -> list[PaymentUpdate]:
        """Verify the provider's webhook request and return what it reports.

        Raise :class:`~hotel_community.errors.AuthenticationFailed` for a request
        that is not genuinely from the provider.
        """
        raise NotImplementedError

    def cancel_payment(self, order: Order) -> None:
        """Stop a pending payment that will not be needed (the order expired or was cancelled)."""

    def refund(self, order: Order, amount: int, idempotency_key: str) -> str:
        """Give back ``amount`` minor units of the order's payment; return the refund's id.

        Called at most once per key; the same key must not refund twice."""
        raise NotImplementedError


@hookspec
def hotel_community_pms_adapters() -> list[PMSAdapter]:
    """Return the PMS adapters this plugin provides."""


@hookspec
def hotel_community_payment_providers() -> list[PaymentProvider]:
    """Return the payment providers this plugin provides."""
