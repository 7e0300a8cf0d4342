"""Introductions that become connections: say hello, accept, decline, contacts, blocks."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from hotel_community.database import session, transaction, utcnow
from hotel_community.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hotel_community.models import Block, Connection, ConnectionStatus, Member, Membership
from hotel_community.services import connections, people
from hotel_community.services.properties import create_property
from tests.services.test_people import (
    check_out, connect, guest, member_stay, names, stay_group,
)


# --- say hello, accept, decline --------------------------------------------------------------------

def test_say_hello_then_accept_reveals_each_contact_to_the_other_only(app, prop):
    mei = guest(prop, "Mei", contact=("wechat", "mei_wechat"))
    vera = guest(prop, "Vera", contact=("email", "vera@example.com"))
    third = guest(prop, "Third")

    request = connections.say_hello(mei.id, vera.id, stay_group(prop).id)
    assert (request.status, request.property_id) == (ConnectionStatus.pending, prop.id)
    # Pending: no connection yet, no contact anywhere.
    assert connections.connections(mei.id)[0] == [] and connections.connections(vera.id)[0] == []
    [outgoing] = connections.outgoing_requests(mei.id)
    assert outgoing.contact is None and outgoing.other.id == vera.id
    [incoming] = connections.incoming_requests(vera.id)
    assert incoming.contact is None and incoming.other.id == mei.id
    assert connections.incoming_count(vera.id) == 1 and connections.incoming_count(mei.id) == 0
    # A third member cannot answer it.
    with pytest.raises(NotFound):
        connections.respond(third.id, request.id, accept=True)
    with pytest.raises(NotFound):
        connections.respond(mei.id, request.id, accept=True)  # nor the one who asked

    connections.respond(vera.id, request.id, accept=True)
    [of_mei] = connections.connections(mei.id)[0]
    [of_vera] = connections.connections(vera.id)[0]
    assert (of_mei.other.id, of_mei.contact) == (vera.id, ("email", "vera@example.com"))
    assert (of_vera.other.id, of_vera.contact) == (mei.id, ("wechat", "mei_wechat"))
    assert connections.connections(third.id)[0] == []
    assert connections.incoming_requests(vera.id) == []


def test_a_declined_request_connects_nobody_and_cannot_be_repeated(app, prop):
    mei, vera = guest(prop, "Mei"), guest(prop, "Vera")
    group = stay_group(prop)
    request = connections.say_hello(mei.id, vera.id, group.id)
    connections.respond(vera.id, request.id, accept=False)

    assert connections.connections(mei.id)[0] == [] and connections.connections(vera.id)[0] == []
    assert connections.outgoing_requests(mei.id) == []
    with pytest.raises(Conflict):
        connections.say_hello(mei.id, vera.id, group.id)
    with pytest.raises(NotFound):
        connections.respond(vera.id, request.id, accept=True)
    # The one who declined may still change their mind and ask.
    assert connections.say_hello(vera.id, mei.id, group.id).status is ConnectionStatus.pending


def test_saying_hello_back_accepts_the_request(app, prop):
    mei, vera = guest(prop, "Mei"), guest(prop, "Vera")
    group = stay_group(prop)
    first = connections.say_hello(mei.id, vera.id, group.id)
    second = connections.say_hello(vera.id, mei.id, group.id)
    assert second.id == first.id and second.status is ConnectionStatus.accepted
    assert session.scalar(sa.select(sa.func.count()).select_from(Connection)) == 1
    with pytest.raises(Conflict):
        connections.say_hello(mei.id, vera.id, group.id)


@pytest.mark.parametrize("case", ["oneself", "hidden", "blocked", "blocking", "duplicate",
                                  "other property", "checked out", "removed", "hidden requester",
                                  "deleted"])
def test_say_hello_is_refused(app, prop, case):
    mei, vera = guest(prop, "Mei"), guest(prop, "Vera")
    group = stay_group(prop)
    target, group_id, error = vera, group.id, NotFound
    if case == "oneself":
        target, error = mei, ValidationFailed
    elif case == "hidden":
        with transaction():
            vera.visible = False
    elif case == "blocked":
        connections.block(mei.id, vera.id)
    elif case == "blocking":
        connections.block(vera.id, mei.id)
    elif case == "duplicate":
        connections.say_hello(mei.id, vera.id, group.id)
        error = Conflict
    elif case == "other property":
        target = guest(create_property("OTHER", "Other Hotel", "Asia/Shanghai"), "Ines")
        group_id = stay_group(session.get(type(prop), target_property_id(target))).id
        error = Forbidden
    elif case == "checked out":
        check_out(vera)
    elif case == "removed":
        with transaction():
            session.scalar(sa.select(Membership).where(
                Membership.member_id == vera.id,
                Membership.left_at.is_(None))).removed_at = utcnow()
    elif case == "hidden requester":
        with transaction():
            mei.visible = False
        error = Forbidden
    elif case == "deleted":
        with transaction():
            vera.deleted_at = utcnow()
    before = session.scalar(sa.select(sa.func.count()).select_from(Connection))

    with pytest.raises(error):
        connections.say_hello(mei.id, target.id, group_id)
    assert session.scalar(sa.select(sa.func.count()).select_from(Connection)) == before


def target_property_id(member) -> int:
    return member_stay(member).property_id


def test_a_blocked_or_hidden_request_can_be_neither_seen_nor_accepted(app, prop):
    mei, vera = guest(prop, "Mei"), guest(prop, "Vera")
    request = connections.say_hello(mei.id, vera.id, stay_group(prop).id)
    with transaction():
        mei.visible = False  # she changed her mind and hid herself
    assert connections.incoming_requests(vera.id) == [] and connections.incoming_count(vera.id) == 0
    with pytest.raises(NotFound):
        connections.respond(vera.id, request.id, accept=True)


class TestHelloRateLimit:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"HOTEL_COMMUNITY_HELLO_RATE_LIMIT": "2 per day"}

    def test_a_member_says_hello_a_limited_number_of_times(self, app, prop):
        mei = guest(prop, "Mei")
        others = [guest(prop, f"O{n}") for n in range(4)]
        group = stay_group(prop)
        connections.say_hello(mei.id, others[0].id, group.id)
        connections.say_hello(mei.id, others[1].id, group.id)
        with pytest.raises(Conflict) as refused:
            connections.say_hello(mei.id, others[2].id, group.id)
        with app.test_request_context():
            assert "said hello to many guests" in str(refused.value.message)
        # Requests older than the window no longer count; answering is never limited.
        with transaction():
            for row in session.scalars(sa.select(Connection)):
                row.created_at -= timedelta(days=1, minutes=1)
        connections.say_hello(mei.id, others[2].id, group.id)
        connections.say_hello(others[3].id, mei.id, group.id)
        connections.say_hello(mei.id, others[3].id, group.id)  # says hello back: accepts


# --- connections outlive the stay --------------------------------------------------------------

def test_a_connection_survives_check_out_and_remembers_where_and_when(app, prop):
    mei = guest(prop, "Mei", contact=("wechat", "mei_wechat"))
    vera = guest(prop, "Vera", contact=("phone", "+86 138 0000 0000"))
    connection = connect(mei, vera, prop)
    with transaction():
        connection.created_at = datetime(2026, 11, 30, 17, 0)  # 1 December in Shanghai
    check_out(mei)
    check_out(vera)

    [entry] = connections.connections(mei.id)[0]
    assert entry.other.id == vera.id and entry.contact == ("phone", "+86 138 0000 0000")
    assert entry.connection.property.name == "Test Hotel"
    assert entry.met_on.isoformat() == "2026-12-01"
    # Visibility is for finding people; those already connected keep each other.
    with transaction():
        session.get(Member, vera.id).visible = False
    assert [e.other.id for e in connections.connections(mei.id)[0]] == [vera.id]


def test_connections_page_by_keyset(app, prop):
    mei = guest(prop, "Mei")
    for n in range(5):
        connect(mei, guest(prop, f"C{n}"), prop)
    first, cursor = connections.connections(mei.id, limit=3)
    rest, end = connections.connections(mei.id, before=cursor, limit=3)
    assert [e.other.first_name for e in first + rest] == ["C4", "C3", "C2", "C1", "C0"]
    assert end is None


# --- blocks ---------------------------------------------------------------------------------------

def test_blocking_ends_requests_and_connections_and_unblocking_lifts_it(app, prop):
    mei, vera, otto = guest(prop, "Mei"), guest(prop, "Vera"), guest(prop, "Otto")
    group = stay_group(prop)
    connect(mei, vera, prop)
    connections.say_hello(otto.id, mei.id, group.id)

    connections.block(mei.id, vera.id)
    connections.block(mei.id, otto.id)
    connections.block(mei.id, otto.id)  # twice is once
    assert session.scalar(sa.select(sa.func.count()).select_from(Connection)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Block)) == 2
    assert connections.connections(vera.id)[0] == []
    assert [e.name for e in connections.blocked_members(mei.id)] == ["Otto G.", "Vera G."]
    with pytest.raises(NotFound):
        connections.say_hello(otto.id, mei.id, group.id)

    connections.unblock(mei.id, otto.id)
    assert [e.member_id for e in connections.blocked_members(mei.id)] == [vera.id]
    assert "Otto" in names(people.who_is_here(mei, group).cards)
    assert connections.say_hello(otto.id, mei.id, group.id).status is ConnectionStatus.pending


def test_the_blocked_list_names_nobody_hidden_or_blocking_back(app, prop):
    mei, hidden, back = guest(prop, "Mei"), guest(prop, "Hidden"), guest(prop, "Back")
    connections.block(mei.id, hidden.id)
    connections.block(mei.id, back.id)
    connections.block(back.id, mei.id)
    with transaction():
        session.get(Member, hidden.id).visible = False
    assert [e.name for e in connections.blocked_members(mei.id)] == [None, None]


def test_one_can_block_only_someone_one_may_have_seen(app, prop):
    mei = guest(prop, "Mei")
    hidden = guest(prop, "Hidden", visible=False)
    stranger = guest(create_property("OTHER", "Other Hotel", "Asia/Shanghai"), "Stranger")
    for other in (hidden, stranger):
        with pytest.raises(NotFound):
            connections.block(mei.id, other.id)
    with pytest.raises(NotFound):
        connections.block(mei.id, 999_999)
    with pytest.raises(ValidationFailed):
        connections.block(mei.id, mei.id)
    assert session.scalar(sa.select(sa.func.count()).select_from(Block)) == 0
