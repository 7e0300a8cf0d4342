"""The front desk's room charges page: the queue to post by hand, the charges still being
tried, and what went through; staff only, one property at a time."""
from __future__ import annotations

import re

from hotel_community.models import RoomChargeStatus
from hotel_community.services.properties import create_property
from tests.factories import check_in_by_hand, csrf_token, make_product, member_of, place
from tests.services.test_room_charges import (
    app_config, charge_to_room, charges_of, checked_in_through, history, pms,
)
from tests.views.test_staff import text

__all__ = ["app_config", "pms"]  # fixtures shared with the service tests

PAGE = "/community/staff/room-charges"


def desk_order(prop, room: str = "1204", last: str = "Chen", price: int = 12999):
    stay = check_in_by_hand(prop, room, ("Mei", last))
    return charge_to_room(place(make_product(prop, price=price), room), member_of(stay))


def section(page, name: str) -> str:
    return re.search(rf"<table {name}>(.*?)</table>", text(page), re.S).group(1)


def posted_by_hand(client, charge_id: int):
    token = csrf_token(client.get(PAGE))
    return client.post(f"{PAGE}/{charge_id}/posted", data={"csrf_token": token},
                       follow_redirects=True)


def test_the_desk_queue_lists_what_to_post_by_hand(app, desk, prop):
    order = desk_order(prop)
    [charge] = charges_of(order)

    page = desk.get(PAGE)

    assert page.status_code == 200
    queue = section(page, "data-desk-queue")
    assert f'data-charge="{charge.id}"' in queue
    for shown in ("1204", "Mei Chen", f"order #{order.id}", "CN¥129.99", "1 x Silk pillow",
                  "not linked to a PMS", "Posted by hand"):
        assert shown in queue, shown


def test_posted_by_hand_works_once(app, desk, prop):
    order = desk_order(prop)
    [charge] = charges_of(order)

    first = posted_by_hand(desk, charge.id)
    assert "Marked as posted by hand (room 1204)." in text(first)
    assert f'data-charge="{charge.id}"' not in section(first, "data-desk-queue")
    assert "Front Desk" in section(first, "data-posted")
    [charge] = charges_of(order)
    assert (charge.status, charge.posted_by) == (RoomChargeStatus.desk_posted, "staff:Front Desk")

    second = posted_by_hand(desk, charge.id)
    assert "This charge was already posted by hand by Front Desk." in text(second)
    assert history(order).count("charge_posted") == 1


def test_charges_still_being_tried_show_their_attempts(app, client, desk, prop, pms):
    pms.down = 1
    order = charge_to_room(place(make_product(prop)), checked_in_through(client, pms, prop))

    pending = section(desk.get(PAGE), "data-pending")

    [charge] = charges_of(order)
    assert f'data-charge="{charge.id}"' in pending
    assert "PMS timed out" in pending
    assert charge.next_attempt_at.strftime("%Y-%m-%d %H:%M") in pending
    assert "<td>1</td>" in pending  # attempts


def test_only_the_current_propertys_charges_are_shown_or_marked(app, desk, prop):
    other = create_property("OTHER", "Other Hotel", "Asia/Shanghai", "CNY")
    [theirs] = charges_of(desk_order(other, room="808", last="Lima"))
    [ours] = charges_of(desk_order(prop))

    page = desk.get(f"{PAGE}?property=TEST")
    assert f'data-charge="{ours.id}"' in text(page)
    assert f'data-charge="{theirs.id}"' not in text(page) and "Lima" not in text(page)

    assert posted_by_hand(desk, theirs.id).status_code == 404
    assert charges_of(theirs.order)[0].status == RoomChargeStatus.desk


def test_guests_and_strangers_are_refused(app, client, prop):
    order = desk_order(prop)
    [charge] = charges_of(order)

    page = client.get(PAGE)
    assert page.status_code == 302 and "/staff/login" in page.headers["Location"]
    token = csrf_token(client.get("/community/staff/login"))
    refused = client.post(f"{PAGE}/{charge.id}/posted", data={"csrf_token": token})
    assert refused.status_code == 302 and "/staff/login" in refused.headers["Location"]
    assert charges_of(order)[0].status == RoomChargeStatus.desk
