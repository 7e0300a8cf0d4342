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

The README's "Writing a PMS adapter" walks through a whole one.

    @hookimpl
    def hotel_community_pms_adapters():
        return [MyPMS()]
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Mapping

import pluggy

if TYPE_CHECKING:
    from flask import Request

    from hotel_community.models import Order, Property, Stay
    from hotel_community.services.checkin import StaySnapshot

PROJECT = "hotel_community"
ENTRY_POINT_GROUP = "hotel_community.plugins"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True)
class SettingField:
    """One setting an adapter needs per property (an API token, an id), asked on the staff page."""

    name: str
    label: str
    #: Kept encrypted at rest and never shown again once saved.
    secret: bool = False
    required: bool = True
    default: str = ""
    help: str = ""


@dataclass(frozen=True)
class PropertyInfo:
    """The property, as plain values: adapters never touch the database."""

    id: int
    code: str
    name: str
    #: IANA time zone: the PMS's times become the property's local dates in it.
    timezone: str
    #: ISO 4217; room charges are in it.
    currency: str


@dataclass(frozen=True)
class PmsConnection:
    """A property's link to its PMS, as an adapter sees it: the property and its settings."""

    property: PropertyInfo
    #: Every :class:`SettingField` by name (secrets decrypted), with defaults filled in.
    settings: Mapping[str, str]


@dataclass(frozen=True)
class Notification:
    """What a webhook says changed: the kind of thing and the vendor's id for it.

    Notifications of one (kind, ref) are merged while they wait, so a burst of
    webhooks about one reservation costs one fetch.
    """

    kind: str
    ref: str


@dataclass(frozen=True)
class FolioCharge:
    """A charge (negative: a credit) to post to a stay's folio."""

    #: Minor units of ``currency``.
    amount: int
    currency: str
    description: str
    #: The same on every attempt of this charge: the PMS must not post it twice.
    idempotency_key: str


class PMSAdapter(ABC):
    """An adapter to one property management system.

    A vendor webhook goes through three steps, so that the webhook is answered
    fast and a slow or failing PMS never loses an event:

    1. the core checks the token in the webhook's URL, then
       :meth:`verify_webhook` and :meth:`notifications_from_webhook` turn the
       request into :class:`Notification` ids, which the core stores;
    2. after the response (or from ``flask community pms-notifications``), the
       core calls :meth:`fetch_stays` for each, outside any transaction;
    3. the core applies the snapshots it gets (state, not changes: duplicated
       and out-of-order webhooks are harmless), and retries a failed fetch later.

    Adapters speak HTTP to their vendor (see :mod:`hotel_community.pms_http`)
    and never touch the database. Every method gets the property's
    :class:`PmsConnection`. Raise :class:`~hotel_community.errors.PmsUnavailable`
    for what is worth retrying and :class:`~hotel_community.errors.PmsError`
    for a refusal.
    """

    #: Short, stable name; the vendor webhook is served at
    #: ``<prefix>/api/v1/pms/<name>/webhook?property=<code>&token=<token>``.
    name: str
    #: Human-readable name shown to staff.
    label: str
    #: What staff fill in to link a property to this PMS.
    settings_fields: tuple[SettingField, ...] = ()

    def verify_webhook(self, request: Request, connection: PmsConnection) -> None:
        """Check what the vendor adds to the URL's token (basic auth, its own ids).

        Raise :class:`~hotel_community.errors.AuthenticationFailed` if the request
        is not from this property's PMS.
        """

    @abstractmethod
    def notifications_from_webhook(self, request: Request,
                                   connection: PmsConnection) -> list[Notification]:
        """The ids the webhook names. Must not call the PMS: the webhook waits for this.

        Raise :class:`~hotel_community.errors.MalformedRequest` for a body that is
        not the vendor's webhook; return ``[]`` for topics that do not concern stays.
        """

    @abstractmethod
    def fetch_stays(self, connection: PmsConnection,
                    notification: Notification) -> list[StaySnapshot]:
        """Ask the PMS for the current state of what ``notification`` names.

        Return the stays it concerns (none when the reservation is unknown or
        not a stay at this property).
        """

    @abstractmethod
    def in_house(self, connection: PmsConnection) -> list[StaySnapshot]:
        """Every stay in house now, for ``flask community pms-sync``."""

    def check_connection(self, connection: PmsConnection) -> str:
        """Call the PMS with the settings; return what staff are told when it works."""
        return f"Connected. In house now: {len(self.in_house(connection))}."

    def post_folio_charge(self, connection: PmsConnection, stay: Stay,
                          charge: FolioCharge) -> str:
        """Post a charge to the stay's folio; return the PMS's id for it.

        Adapters whose PMS has no folio API keep the default, and room charges
        go to the front desk queue instead.
        """
        raise NotImplementedError

    def void_folio_charge(self, connection: PmsConnection, stay: Stay, pms_charge_id: str,
                          idempotency_key: str) -> str:
        """Take back a charge posted by :meth:`post_folio_charge` (the whole of it);
        return the PMS's id for the reversal. The default posts nothing: the core
        then posts a credit instead."""
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
