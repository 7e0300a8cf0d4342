"""``flask community room-charges post``: cron posts the due room charges."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from hotel_community.database import session, transaction, utcnow
from hotel_community.models import RoomCharge, RoomChargeStatus
from tests.factories import make_product, place
from tests.services.test_room_charges import charge_to_room, charges_of, checked_in_through, pms
from tests.test_cli import community

__all__ = ["pms"]  # the fake PMS fixture


@pytest.fixture
def app_config() -> dict:
    return {"HOTEL_COMMUNITY_ROOM_CHARGE_MAX_ATTEMPTS": 2}


def test_post_retries_the_due_charges_and_counts_the_outcomes(app, client, runner, prop, pms):
    member = checked_in_through(client, pms, prop)
    placement = place(make_product(prop))
    pms.down = 3  # both charges fail right after payment, then one fails again
    placed = [charge_to_room(placement, member) for _ in range(2)]
    with transaction():  # the retry delay has passed
        session.execute(update(RoomCharge).values(next_attempt_at=utcnow() - timedelta(hours=1)))

    result = community(runner, "room-charges", "post")

    assert "Posting room charges" in result.output
    assert "Posted 1, failed 0 (to be retried), sent to the front desk 1." in result.output
    statuses = sorted(charges_of(order)[0].status.value for order in placed)
    assert statuses == [RoomChargeStatus.desk.value, RoomChargeStatus.posted.value]
    again = community(runner, "room-charges", "post")
    assert "Posted 0, failed 0 (to be retried), sent to the front desk 0." in again.output
