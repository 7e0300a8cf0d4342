"""``flask community settle-campaigns``: cron settles the campaigns past their deadline."""
from __future__ import annotations

from collections import Counter

import pytest

from hotel_community.models import CampaignStatus, PledgeStatus
from tests.services.test_settlement import (
    DECLINES, charges, dashboard, fresh, make_campaign, pledge,
)
from tests.test_cli import community

__all__ = ["dashboard"]  # the fixture


@pytest.fixture
def app_config(stripe_config: dict) -> dict:
    return stripe_config


def test_settle_campaigns_charges_releases_and_prints_the_report(runner, prop, dashboard):
    met = make_campaign(prop, goal=15000)
    good = pledge(prop, met, dashboard)
    bad = pledge(prop, met, dashboard, payment_method=DECLINES, amount=5000)
    missed = make_campaign(prop, goal=90000)
    released = pledge(prop, missed, dashboard)

    result = community(runner, "settle-campaigns")

    assert "Settling campaigns" in result.output
    assert ("Campaigns succeeded 1, failed 1; pledges collected 1, payment failed 1, "
            "left for the next run 0, uncollected 0, released 1.") in result.output
    assert ("The new rooftop [succeeded]: collected 1 (CN¥100.00), "
            "payment failed 1 (CN¥50.00), uncollected 0 (CN¥0.00), released 0 (CN¥0.00)"
            ) in result.output
    assert "The new rooftop [failed]: collected 0 (CN¥0.00)" in result.output
    assert (fresh(met).status, fresh(missed).status) == (CampaignStatus.succeeded,
                                                         CampaignStatus.failed)
    assert [fresh(p).status for p in (good, bad, released)] == [
        PledgeStatus.collected, PledgeStatus.payment_failed, PledgeStatus.released]
    assert charges(dashboard) == Counter({good.customer_ref: 1})
    again = community(runner, "settle-campaigns")
    assert "Campaigns succeeded 0, failed 0; pledges collected 0" in again.output
