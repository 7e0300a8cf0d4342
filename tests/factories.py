"""Builders for test data: PMS events as JSON, stay snapshots, a signing API client."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta, timezone
import threading
from itertools import count
from typing import Any, Callable


from hotel_community.database import session, transaction
from hotel_community.errors import PaymentProviderError
from hotel_community.hookspecs import PaymentProvider, PaymentStart, PaymentUpdate
from hotel_community.models import Order, Placement, Product, ProductPhoto
from hotel_community.services.api_keys import KEY_HEADER, SIGNATURE_HEADER, sign

_ids = count(1)
BASE_TIME = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def guest(first: str = "Mei", last: str = "Chen", pms_guest_id: str | None = None,
          **extra: Any) -> dict[str, Any]:
    return {"pms_guest_id": pms_guest_id or f"G-{first}-{last}", "first_name": first,
            "last_name": last, **extra}


def event(reservation_id: str = "R1", status: str = "in_house", room: str | None = "1204",
          guests: list[dict[str, Any]] | None = None, minute: int = 0, event_id: str | None = None,
          prop: str = "TEST", arrival: date | None = None, departure: date | None = None,
          ) -> dict[str, Any]:
    """A normalized PMS event; ``minute`` orders events in time."""
    arrival = arrival or date(2026, 11, 20)
    return {
        "id": event_id or f"evt-{next(_ids)}",
        "occurred_at": (BASE_TIME + timedelta(minutes=minute)).isoformat(),
        "property": prop,
        "stay": {"reservation_id": reservation_id, "status": status, "room": room,
                 "arrival": arrival.isoformat(),
                 "departure": (departure or arrival + timedelta(days=3)).isoformat(),
                 "guests": guests if guests is not None else [guest()]},
    }


class ApiClient:
    """Sends signed requests to the PMS API, as a PMS would."""

    def __init__(self, client, key_id: str, secret: str, prefix: str = "/community/api/v1") -> None:
        self.client, self.key_id, self.secret, self.prefix = client, key_id, secret, prefix

    def headers(self, body: bytes, timestamp: int | None = None) -> dict[str, str]:
        return {KEY_HEADER: self.key_id, SIGNATURE_HEADER: sign(self.secret, body, timestamp),
                "Content-Type": "application/json"}

    def post(self, path: str, payload: Any, timestamp: int | None = None):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.client.post(self.prefix + path, data=body,
                                headers=self.headers(body, timestamp))

    def get(self, path: str, **params: Any):
        return self.client.get(self.prefix + path, query_string=params, headers=self.headers(b""))

    def send_event(self, payload: dict[str, Any]):
        return self.post("/pms/events", payload)


def load_event(payload: dict[str, Any]):
    """The service-level :class:`StayEvent` of a JSON event, as the API would load it."""
    from hotel_community.schemas.pms import PmsEventSchema

    return PmsEventSchema().load(payload)["event"]


def community_state(prop) -> dict[str, Any]:
    """A property's stays and groups, normalized for comparing two runs.

    ``stays``: reservation id -> (status, room, sorted guest names);
    ``stay_group`` / ``alumni``: sorted full names of the open members;
    ``members``: how many distinct members the property's stays name.
    """
    from sqlalchemy import func, select

    from hotel_community.database import session
    from hotel_community.models import GroupKind, Member, Membership, Stay, StayGuest
    from hotel_community.services.properties import groups_by_kind

    session.expire_all()
    stays = {
        stay.reservation_id: (stay.status.value, stay.room,
                              tuple(sorted(g.member.full_name for g in stay.guests)))
        for stay in session.scalars(select(Stay).where(Stay.property_id == prop.id))}
    groups = groups_by_kind(prop)

    def names(kind: GroupKind) -> list[str]:
        return sorted(session.scalars(
            select(Member.first_name + " " + Member.last_name)
            .join(Membership, Membership.member_id == Member.id)
            .where(Membership.group_id == groups[kind].id, Membership.left_at.is_(None))))

    members = session.scalar(
        select(func.count(func.distinct(StayGuest.member_id)))
        .join(Stay, Stay.id == StayGuest.stay_id).where(Stay.property_id == prop.id))
    return {"stays": stays, "stay_group": names(GroupKind.stay),
            "alumni": names(GroupKind.alumni), "members": members}


_CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
_VALUE = re.compile(r'value="([^"]+)"')


def csrf_token(page: Any) -> str:
    """The CSRF token of the first form in a rendered page (a response, str or bytes)."""
    html = page.get_data(as_text=True) if hasattr(page, "get_data") else page
    html = html.decode() if isinstance(html, bytes) else html
    field = _CSRF_INPUT.search(html)
    assert field, "no csrf_token field in the page"
    return _VALUE.search(field.group(0)).group(1)


def check_in_by_hand(prop: Any, room: str, *guests: tuple[str, ...], reservation_id: str | None = None,
                     status: str = "in_house", arrival: date | None = None,
                     departure: date | None = None) -> Any:
    """A stay as the front desk enters it: ``guests`` are (first, last[, language]) tuples.

    Dates default to yesterday to the day after tomorrow at the property.
    Returns the stored stay.
    """
    from hotel_community.models import StayStatus
    from hotel_community.services.access import today_at
    from hotel_community.services.checkin import GuestSnapshot, StaySnapshot, apply_staff_change

    today = today_at(prop)
    snapshot = StaySnapshot(
        reservation_id=reservation_id or f"R-{room}-{next(_ids)}", status=StayStatus(status),
        room=room, arrival=arrival or today - timedelta(days=1),
        departure=departure or today + timedelta(days=2),
        guests=tuple(GuestSnapshot(first_name=g[0], last_name=g[1],
                                   language=g[2] if len(g) > 2 else None, primary=i == 0)
                     for i, g in enumerate(guests)))
    return apply_staff_change(prop, snapshot).stay


def member_stay(member: Any) -> Any:
    """The member's latest stay."""
    from sqlalchemy import select

    from hotel_community.database import session
    from hotel_community.models import Stay, StayGuest

    return session.scalar(select(Stay).join(StayGuest, StayGuest.stay_id == Stay.id)
                          .where(StayGuest.member_id == member.id)
                          .order_by(Stay.id.desc()).limit(1))


def signed_in(app: Any, member: Any, stay: Any = None) -> Any:
    """A fresh test client signed in with the member's access link (their latest stay)."""
    from urllib.parse import urlsplit

    from flask import current_app

    from hotel_community.services import access

    with current_app.test_request_context():
        path = urlsplit(access.access_url(member, stay or member_stay(member))).path
    client = app.test_client()
    assert client.get(path).status_code == 302
    return client


def run_at_once(app: Any, calls: list[Callable[[], Any]]) -> list[Any]:
    """Run each call in its own thread, app context and database connection, all
    released at the same moment; the results (or exceptions) in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def work(index: int, call: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[index] = call()
            except Exception as exc:  # returned to the test, which reports it
                results[index] = exc

    threads = [threading.Thread(target=work, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return results


# --- shop ----------------------------------------------------------------------------------------

_codes = iter(range(10_000, 99_999))


def make_product(prop, *, name_en: str = "Silk pillow", name_zh: str = "真丝枕头",
                 description_en: str = "Slept on it? Take it home.", description_zh: str = "",
                 price: int = 12999, currency: str = "CNY", stock: int = 20, active: bool = True,
                 photos: int = 1) -> Product:
    with transaction():
        product = Product(property_id=prop.id, sku=f"SKU-{next(_codes)}", name_en=name_en,
                          name_zh=name_zh, description_en=description_en,
                          description_zh=description_zh, price=price, currency=currency,
                          stock=stock, active=active)
        product.photos = [ProductPhoto(photo=f"photo{n}.jpg", position=n) for n in range(photos)]
        session.add(product)
    return product


def place(product: Product, location: str = "1204", *, is_room: bool = True,
          active: bool = True, code: str | None = None) -> Placement:
    with transaction():
        placement = Placement(code=code or f"c{next(_codes)}", property_id=product.property_id,
                              product_id=product.id, location=location, is_room=is_room,
                              active=active)
        session.add(placement)
    return placement


def member_of(stay):
    return stay.guests[0].member


class FakeCard(PaymentProvider):
    """A card provider the test drives by hand (the real one is plugins/stripe): its
    payments stay pending until the test settles them; it records cancellations
    and refunds, and can be told to fail."""

    name, label, template = "fake_card", "Fake card", "fake_card.html"
    #: The payment form the ``card`` fixture serves as ``fake_card.html``.
    FORM = ('<form data-fake-card data-secret="{{ payment.secret }}" '
            'action="{{ confirm_url }}" data-return="{{ order_url }}">'
            '<input name="csrf_token" value="{{ csrf_token() }}">'
            '{{ order.total }}</form>')

    def __init__(self) -> None:
        self.fail_start = False
        self.refuse_refunds = False
        #: What the payment system says when asked: None (still open), an update, or an error.
        self.status: PaymentUpdate | Exception | None = None
        self.refunds: list[tuple[int, str]] = []
        self.cancelled: list[str] = []

    def start_payment(self, order: Order) -> PaymentStart:
        if self.fail_start:
            raise PaymentProviderError("card network down")
        return PaymentStart("pending", provider_ref=f"fake-{order.id}")

    def page_context(self, order: Order) -> dict:
        return {"secret": f"secret-{order.id}"}

    def confirm(self, order: Order, data: dict) -> dict:
        from hotel_community.services import orders

        if data.get("card") != "4242":
            raise PaymentProviderError("Your card was declined.")
        orders.mark_paid(order.id, self.name)
        return {"status": "paid", "next": data.get("next")}

    def payment_status(self, order: Order) -> PaymentUpdate | None:
        if isinstance(self.status, Exception):
            raise self.status
        return self.status

    def cancel_payment(self, order: Order) -> None:
        self.cancelled.append(order.provider_ref)

    def refund(self, order: Order, amount: int, idempotency_key: str) -> str:
        if self.refuse_refunds:
            raise RuntimeError("the card network is down")
        self.refunds.append((amount, idempotency_key))
        return f"re-{len(self.refunds)}"
