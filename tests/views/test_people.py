"""People pages: who is here, suggestions, say hello, connections, blocks, places."""
from __future__ import annotations

import re
from datetime import datetime

import pytest
import sqlalchemy as sa
from flask import url_for

from hotel_community.database import session, transaction, utcnow
from hotel_community.models import Block, Connection, ConnectionStatus, Member, Membership
from hotel_community.services import connections, people
from hotel_community.services.properties import create_property
from hotel_community.services.staff import create_staff
from tests.factories import csrf_token, signed_in
from tests.services.test_people import check_out, guest, stay_group

PEOPLE = "/community/people"




def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def post(client, page: str, action: str, data: dict | None = None):
    """Submit a form as a browser would: with the token of the page it is on."""
    return client.post(action, data={"csrf_token": csrf_token(client.get(page)), **(data or {})})


def say_hello(client, other: Member, group_id: int):
    return post(client, "/community/group", f"{PEOPLE}/hello/{other.id}",
                {"group": group_id, "next": f"{PEOPLE}/"})


def request_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-request="(\d+)"', page)]


def cards(page: str) -> list[int]:
    """The members on the page's cards: suggestions and who is here."""
    return [int(i) for i in re.findall(r'data-member-card="(\d+)"', page)]


def here(page: str) -> list[int]:
    """The members listed under "who is here" only."""
    return cards(page.split("data-who-is-here", 1)[1]) if "data-who-is-here" in page else []


# --- who is here and suggestions ---------------------------------------------------------------

def test_the_people_page_needs_a_signed_in_guest(app, client, prop):
    for path in ("/", "/connections", "/blocked", "/places", "/groups/1"):
        response = client.get(PEOPLE + path)
        assert response.status_code == 302, path
        assert response.headers["Location"].endswith("/community/login")


def test_who_is_here_shows_visible_guests_and_nothing_of_hidden_or_blocking_ones(app, prop):
    me = guest(prop, "Mei", interests=("Hiking",), languages=("en", "zh"))
    vera = guest(prop, "Vera", "Visible", home_city="Lisbon", languages=("zh", "pt"),
                 interests=("Hiking", "Surfing"))
    guest(prop, "Hugo", "Hiddenfield", visible=False, home_city="Secretville",
          interests=("Hidden Hobby",), languages=("ja",), contact=("wechat", "hugo_wx_1"))
    blocker = guest(prop, "Blanche", "Blockwell", home_city="Blockburg",
                    interests=("Blocker Hobby",), contact=("email", "blanche@example.com"))
    blocked = guest(prop, "Bob", "Blockedson", home_city="Bobtown", interests=("Bob Hobby",))
    gone = guest(prop, "Gina", "Gone", home_city="Goneville", interests=("Gone Hobby",))
    check_out(gone)
    away = guest(create_property("OTHER", "Other Hotel", "Asia/Shanghai"), "Alma", "Away",
                 home_city="Awaytown", interests=("Away Hobby",))
    connections.block(blocker.id, me.id)
    connections.block(me.id, blocked.id)
    client = signed_in(app, me)

    page = html(client.get(f"{PEOPLE}/"))
    assert set(cards(page)) == {vera.id}  # suggested, and in who is here
    assert "Vera V." in page and "Lisbon" in page and "#Surfing" in page and "Português" in page
    assert "You both like Hiking · both speak 中文" in page
    # Nothing of the hidden, the blocking, the blocked, the departed or another hotel's guest.
    pages = {path: html(client.get(PEOPLE + path)) for path in (
        "/", f"/groups/{stay_group(prop).id}?language=ja", "/connections", "/places", "/blocked")}
    for text in ("Hugo", "Hiddenfield", "Secretville", "Hidden Hobby", "hugo_wx_1",
                 "Blanche", "Blockwell", "Blockburg", "Blocker Hobby", "blanche@example.com",
                 "Bob", "Blockedson", "Bobtown", "Bob Hobby", "Gina", "Goneville", "Gone Hobby",
                 "Alma", "Awaytown", "Away Hobby"):
        for path, source in pages.items():
            if (path, text) != ("/blocked", "Bob"):
                assert text not in source, (text, path)
    # Whom I blocked I see by name on my blocked list only, to unblock them.
    assert "Bob B." in pages["/blocked"]
    assert f'data-member-card="{away.id}"' not in page


def test_who_is_here_filters_by_interest_and_language(app, prop):
    me = guest(prop, "Mei")
    ann = guest(prop, "Ann", interests=("Hiking",), languages=("en",))
    bo = guest(prop, "Bo", interests=("Tea",), languages=("zh",))
    client = signed_in(app, me)
    group = f"{PEOPLE}/groups/{stay_group(prop).id}"

    assert cards(html(client.get(f"{group}?interest=hiking"))) == [ann.id]
    assert cards(html(client.get(f"{group}?language=zh"))) == [bo.id]
    assert "Nobody here matches" in html(client.get(f"{group}?interest=hiking&language=zh"))
    assert sorted(here(html(client.get(group)))) == sorted([ann.id, bo.id])


def test_who_is_here_pages_with_a_more_link(app, prop, monkeypatch):
    monkeypatch.setattr(people, "PAGE_SIZE", 2)
    me = guest(prop, "Mei")
    everyone = {guest(prop, f"P{n}").id for n in range(5)}
    client = signed_in(app, me)

    url, seen = f"{PEOPLE}/groups/{stay_group(prop).id}", []
    while url:
        page = html(client.get(url))
        seen += here(page)
        more = re.search(r'href="([^"]+)" data-more', page)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert sorted(seen) == sorted(everyone)


def test_a_hidden_guest_is_asked_to_show_themselves_before_introductions(app, prop):
    me = guest(prop, "Mei", visible=False, interests=("Tea",))
    guest(prop, "Vera", interests=("Tea",))
    page = html(signed_in(app, me).get(f"{PEOPLE}/"))
    assert "Show yourself to get introductions" in page
    assert "You both like" not in page


def test_the_group_pages_link_to_people(app, prop):
    me = guest(prop, "Mei")
    client = signed_in(app, me)
    assert f'href="{PEOPLE}/"' in html(client.get("/community/group"))
    check_out(me)
    assert f'href="{PEOPLE}/"' in html(client.get("/community/group"))


# --- groups one is not in ----------------------------------------------------------------------

def test_another_propertys_or_a_left_group_is_refused(app, prop):
    me = guest(prop, "Mei")
    other = create_property("OTHER", "Other Hotel", "Asia/Shanghai")
    guest(other, "Ines")
    client = signed_in(app, me)
    response = client.get(f"{PEOPLE}/groups/{stay_group(other).id}")
    assert response.status_code == 403 and "Ines" not in response.get_data(as_text=True)

    check_out(me)
    assert client.get(f"{PEOPLE}/groups/{stay_group(prop).id}").status_code == 403
    assert client.get(f"{PEOPLE}/groups/999999").status_code == 403


def test_a_removed_member_is_refused(app, prop):
    me = guest(prop, "Mei")
    client = signed_in(app, me)
    with transaction():
        session.scalar(sa.select(Membership).where(
            Membership.member_id == me.id, Membership.left_at.is_(None))).removed_at = utcnow()
    assert client.get(f"{PEOPLE}/groups/{stay_group(prop).id}").status_code == 403


def test_after_check_out_the_people_page_shows_the_alumni_community(app, prop):
    me = guest(prop, "Mei")
    vera = guest(prop, "Vera")
    check_out(me)
    check_out(vera)
    page = html(signed_in(app, me).get(f"{PEOPLE}/"))
    assert "Members of the Test Hotel community" in page
    assert cards(page) == [vera.id]


# --- say hello, accept, contacts ---------------------------------------------------------------

def test_say_hello_accept_and_only_then_see_each_others_contact(app, prop):
    mei = guest(prop, "Mei", contact=("wechat", "mei_wechat_id"))
    vera = guest(prop, "Vera", contact=("email", "vera@example.com"))
    third = guest(prop, "Tom", contact=("phone", "+86 138 1111 2222"))
    mei_client, vera_client, tom_client = (signed_in(app, m) for m in (mei, vera, third))
    contacts = ("mei_wechat_id", "vera@example.com")

    response = say_hello(mei_client, vera, stay_group(prop).id)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{PEOPLE}/")
    assert "You said hello" in html(mei_client.get(f"{PEOPLE}/"))
    waiting = html(mei_client.get(f"{PEOPLE}/connections"))
    assert "Waiting for an answer" in waiting and "Vera G." in waiting
    incoming = html(vera_client.get(f"{PEOPLE}/connections"))
    assert "Said hello to you" in incoming and "Mei G." in incoming
    [request_id] = request_ids(incoming)
    assert '<span class="badge">1</span>' in html(vera_client.get(f"{PEOPLE}/"))
    # Before acceptance nobody sees a contact.
    for client in (mei_client, vera_client, tom_client):
        for path in ("/", "/connections"):
            page = html(client.get(PEOPLE + path))
            assert not any(contact in page for contact in contacts), path
    # Neither a third guest nor the one who asked can accept.
    accept = f"{PEOPLE}/requests/{request_id}/accept"
    assert post(tom_client, f"{PEOPLE}/", accept).status_code == 404
    assert post(mei_client, f"{PEOPLE}/", accept).status_code == 404

    assert post(vera_client, f"{PEOPLE}/connections", accept).status_code == 302
    of_mei = html(mei_client.get(f"{PEOPLE}/connections"))
    of_vera = html(vera_client.get(f"{PEOPLE}/connections"))
    assert "vera@example.com" in of_mei and "mei_wechat_id" not in of_mei
    assert "mei_wechat_id" in of_vera and "vera@example.com" not in of_vera
    assert "E-mail" in of_mei and "WeChat ID" in of_vera
    for page in (html(tom_client.get(f"{PEOPLE}/connections")),
                 html(tom_client.get(f"{PEOPLE}/")), html(mei_client.get(f"{PEOPLE}/"))):
        assert not any(contact in page for contact in contacts)
    assert "Connected" in html(mei_client.get(f"{PEOPLE}/groups/{stay_group(prop).id}"))


def test_staff_pages_never_show_the_contacts_guests_exchanged(app, client, prop):
    mei = guest(prop, "Mei", contact=("wechat", "mei_wechat_id"))
    vera = guest(prop, "Vera", contact=("email", "vera@example.com"))
    request = connections.say_hello(mei.id, vera.id, stay_group(prop).id)
    connections.respond(vera.id, request.id, accept=True)
    create_staff("desk", "correct-horse-battery", "Desk")
    login = client.get("/community/staff/login")
    client.post("/community/staff/login", data={"csrf_token": csrf_token(login),
                                                "username": "desk",
                                                "password": "correct-horse-battery"})
    with app.test_request_context():
        pages = [url_for(endpoint) for endpoint in (
            "hotel_community.staff.in_house", "hotel_community.moderation.queue",
            "hotel_community.moderation.restricted", "hotel_community.health.overview")]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page
        text = response.get_data(as_text=True)
        assert "mei_wechat_id" not in text and "vera@example.com" not in text, page


def test_saying_hello_back_connects_at_once(app, prop):
    mei, vera = guest(prop, "Mei"), guest(prop, "Vera")
    connections.say_hello(mei.id, vera.id, stay_group(prop).id)
    client = signed_in(app, vera)
    page = html(client.get(f"{PEOPLE}/"))
    assert "Say hello back" in html(client.get(f"{PEOPLE}/groups/{stay_group(prop).id}"))
    assert "Mei" not in page.split("data-suggestions")[1].split("<h2>")[0]  # not suggested
    response = say_hello(client, mei, stay_group(prop).id)
    assert response.status_code == 302
    assert session.scalar(sa.select(Connection.status)) is ConnectionStatus.accepted


def test_decline(app, prop):
    mei, vera = guest(prop, "Mei"), guest(prop, "Vera")
    request = connections.say_hello(mei.id, vera.id, stay_group(prop).id)
    client = signed_in(app, vera)
    response = post(client, f"{PEOPLE}/connections", f"{PEOPLE}/requests/{request.id}/decline")
    assert response.status_code == 302
    assert request_ids(html(client.get(f"{PEOPLE}/connections"))) == []
    session.expire_all()
    assert session.get(Connection, request.id).status is ConnectionStatus.declined
    # The one who asked is not told; they just cannot ask again.
    page = html(signed_in(app, mei).get(f"{PEOPLE}/groups/{stay_group(prop).id}"))
    assert "You said hello" in page and "declined" not in page.lower()


@pytest.mark.parametrize("case", ["hidden", "blocking", "oneself", "not in the group"])
def test_say_hello_is_refused_with_a_readable_page(app, prop, case):
    mei, vera = guest(prop, "Mei"), guest(prop, "Vera")
    group_id = stay_group(prop).id
    target = vera
    if case == "hidden":
        with transaction():
            vera.visible = False
    elif case == "blocking":
        connections.block(vera.id, mei.id)
    elif case == "oneself":
        target = mei
    else:
        target = guest(create_property("OTHER", "Other Hotel", "Asia/Shanghai"), "Ines")
    response = say_hello(signed_in(app, mei), target, group_id)
    assert response.status_code in (403, 404, 422)
    page = response.get_data(as_text=True)
    assert "Back to the community" in page and "Vera" not in page
    assert session.scalar(sa.select(sa.func.count()).select_from(Connection)) == 0


def test_every_post_needs_the_csrf_token(app, prop):
    mei, vera = guest(prop, "Mei"), guest(prop, "Vera")
    request = connections.say_hello(vera.id, mei.id, stay_group(prop).id)
    client = signed_in(app, mei)
    for action in (f"/hello/{vera.id}", f"/requests/{request.id}/accept", f"/block/{vera.id}",
                   f"/unblock/{vera.id}"):
        assert client.post(PEOPLE + action, data={"group": stay_group(prop).id}).status_code \
            == 400, action
    assert session.scalar(sa.select(sa.func.count()).select_from(Block)) == 0
    assert session.scalar(sa.select(Connection.status)) is ConnectionStatus.pending


# --- connections outlive the stay ----------------------------------------------------------------

def test_connections_survive_check_out_and_say_where_and_when_they_met(app, prop):
    mei = guest(prop, "Mei", contact=("wechat", "mei_wechat_id"))
    vera = guest(prop, "Vera", contact=("email", "vera@example.com"))
    request = connections.say_hello(mei.id, vera.id, stay_group(prop).id)
    connections.respond(vera.id, request.id, accept=True)
    with transaction():
        session.get(Connection, request.id).created_at = datetime(2026, 11, 12, 10, 0)
    client = signed_in(app, mei)
    check_out(mei)
    check_out(vera)

    page = html(client.get(f"{PEOPLE}/connections"))
    assert "Stayed together at Test Hotel in November 2026" in page
    assert "Vera G." in page and "vera@example.com" in page
    client.get("/community/language/zh")
    assert "2026年11月" in html(client.get(f"{PEOPLE}/connections"))


# --- blocks ------------------------------------------------------------------------------------------

def test_block_from_the_card_then_unblock_from_the_list(app, prop):
    mei = guest(prop, "Mei", interests=("Tea",))
    vera = guest(prop, "Vera", "Visible", interests=("Tea",), home_city="Lisbon")
    connections.say_hello(vera.id, mei.id, stay_group(prop).id)
    client = signed_in(app, mei)
    vera_client = signed_in(app, vera)

    response = post(client, f"{PEOPLE}/", f"{PEOPLE}/block/{vera.id}", {"next": f"{PEOPLE}/"})
    assert response.status_code == 302
    for path in ("/", "/connections"):
        page = html(client.get(PEOPLE + path))
        assert "Vera" not in page and "Lisbon" not in page, path
    assert "Mei" not in html(vera_client.get(f"{PEOPLE}/"))
    assert say_hello(vera_client, mei, stay_group(prop).id).status_code == 404
    blocked = html(client.get(f"{PEOPLE}/blocked"))
    assert "Vera V." in blocked

    response = post(client, f"{PEOPLE}/blocked", f"{PEOPLE}/unblock/{vera.id}")
    assert response.status_code == 302
    assert "You have not blocked anyone." in html(client.get(f"{PEOPLE}/blocked"))
    assert vera.id in cards(html(client.get(f"{PEOPLE}/")))


def test_block_from_the_connection_list_ends_the_connection(app, prop):
    mei = guest(prop, "Mei", contact=("wechat", "mei_wechat_id"))
    vera = guest(prop, "Vera", contact=("email", "vera@example.com"))
    request = connections.say_hello(mei.id, vera.id, stay_group(prop).id)
    connections.respond(vera.id, request.id, accept=True)
    client, vera_client = signed_in(app, mei), signed_in(app, vera)

    response = post(client, f"{PEOPLE}/connections", f"{PEOPLE}/block/{vera.id}",
                    {"next": f"{PEOPLE}/connections"})
    assert response.headers["Location"].endswith(f"{PEOPLE}/connections")
    assert "vera@example.com" not in html(client.get(f"{PEOPLE}/connections"))
    assert "mei_wechat_id" not in html(vera_client.get(f"{PEOPLE}/connections"))


def test_a_block_never_redirects_off_site(app, prop):
    mei, vera = guest(prop, "Mei"), guest(prop, "Vera")
    response = post(signed_in(app, mei), f"{PEOPLE}/", f"{PEOPLE}/block/{vera.id}",
                    {"next": "//evil.example/"})
    assert response.headers["Location"].endswith(f"{PEOPLE}/")


# --- places ------------------------------------------------------------------------------------------

def test_places_lists_the_hotels_with_links_to_their_communities(app, prop):
    me = guest(prop, "Mei")
    page = html(signed_in(app, me).get(f"{PEOPLE}/places"))
    group_id = stay_group(prop).id
    assert "Test Hotel" in page and "Staying now" in page
    assert f'href="/community/groups/{group_id}/"' in page
    assert f'href="{PEOPLE}/groups/{group_id}"' in page
