"""``flask community pms-sync`` (every linked property against its PMS's in-house list, one
failing leaves the others be) and ``flask community pms-notifications`` (cron's inbox run)."""
from __future__ import annotations

import pytest

from hotel_community.models import StayStatus
from hotel_community.services import pms_links
from hotel_community.services.properties import create_property
from tests.pms.memory import MemoryPMS, linked, registered
from tests.services.test_pms_inbox import in_stay_group, stay_of
from tests.test_cli import community


@pytest.fixture
def app_config() -> dict:
    return {"HOTEL_COMMUNITY_PMS_PROCESS_AFTER_RESPONSE": False}


@pytest.fixture
def pms(app) -> MemoryPMS:
    return registered(app, MemoryPMS())


class OtherPMS(MemoryPMS):
    """The second property's PMS: a PMS of its own, whose in-house list is only its guests."""

    name, label = "otherpms", "Other PMS"


@pytest.fixture
def other_pms(app) -> MemoryPMS:
    return registered(app, OtherPMS())


@pytest.fixture
def other(app, prop):
    """A second property; by code it comes before TEST."""
    return create_property("OTHER", "Other Hotel", "Europe/Paris", "EUR")


def test_sync_reconciles_every_linked_property(app, runner, prop, other, pms, other_pms):
    for hotel, adapter, guest in ((prop, pms, "Mei"), (other, other_pms, "Ana")):
        linked(hotel, adapter)
        adapter.put(stay_of(hotel, f"R-{guest}", StayStatus.in_house, "101", (guest, "Lima")))

    result = community(runner, "pms-sync")

    assert "Reconciling properties" in result.output
    assert "OTHER: Reconciled" in result.output and "TEST: Reconciled" in result.output
    assert "Synced 2 of 2 properties." in result.output
    assert in_stay_group(prop) == ["Mei"] and in_stay_group(other) == ["Ana"]


def test_a_failing_pms_is_reported_and_the_others_still_sync(app, runner, prop, other, pms,
                                                            other_pms):
    linked(prop, pms)
    linked(other, other_pms)
    pms.put(stay_of(prop, "T-1"))
    other_pms.down = 1

    result = community(runner, "pms-sync", ok=False)

    assert result.exit_code == 1
    assert "FAILED OTHER: Memory PMS answered 500." in result.stderr
    assert "TEST: Reconciled 1 stays: 1 applied." in result.output
    assert "Synced 1 of 2 properties." in result.output
    assert in_stay_group(prop) == ["Mei"]
    assert pms_links.get_link(other).synced_at is None


def test_one_property_only(app, runner, prop, other, pms, other_pms):
    linked(prop, pms)
    linked(other, other_pms)

    result = community(runner, "pms-sync", "--property", "TEST")

    assert "TEST: Reconciled 0 stays: nothing to do." in result.output
    assert "OTHER" not in result.output and "Synced 1 of 1 properties." in result.output
    assert (pms.calls, other_pms.calls) == (["in_house"], [])


def test_an_unlinked_or_unknown_property_is_a_clear_error(app, runner, prop, other, pms):
    linked(prop, pms)

    unlinked = community(runner, "pms-sync", "--property", "OTHER", ok=False)
    unknown = community(runner, "pms-sync", "--property", "NOPE", ok=False)

    assert unlinked.exit_code == 1
    assert "FAILED OTHER: OTHER is not linked to an installed PMS adapter." in unlinked.stderr
    assert unknown.exit_code == 1 and "NOPE" in unknown.stderr
    assert pms.calls == []


def test_notifications_processes_the_due_ones_and_prints_the_summary(app, client, runner, prop,
                                                                      other, pms, other_pms):
    for hotel, adapter, reservation in ((prop, pms, "T-1"), (other, other_pms, "O-1")):
        adapter.put(stay_of(hotel, reservation))
        assert client.post(linked(hotel, adapter), json={"reservations": [reservation]}
                           ).status_code == 202
    other_pms.down = 1

    result = community(runner, "pms-notifications")

    assert "Fetching from the PMS" in result.output
    assert "Applied 1 notifications, 1 failed (to be retried), 0 given up." in result.output
    assert (in_stay_group(prop), in_stay_group(other)) == (["Mei"], [])
    again = community(runner, "pms-notifications")
    assert "Applied 0 notifications, 0 failed (to be retried), 0 given up." in again.output
