"""Staff curate the interests guests choose from."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotel_community.database import session
from hotel_community.models import Interest
from hotel_community.services import profiles
from tests.factories import check_in_by_hand, csrf_token
from tests.views.test_staff import post_form, text

PAGE = "/community/staff/interests"


def listed(response) -> list[str]:
    table = text(response).split("data-curated", 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-interest="([^"]*)"', table)


def interest(slug: str) -> Interest | None:
    session.expire_all()
    return session.scalar(select(Interest).where(Interest.slug == slug))


@pytest.mark.parametrize("method, path", [
    ("get", PAGE), ("post", PAGE), ("post", f"{PAGE}/1/rename"), ("post", f"{PAGE}/1/remove")])
def test_strangers_are_sent_to_sign_in(app, client, prop, method, path):
    profiles.add_curated_interest("Hiking")
    page = client.get("/community/staff/login")
    response = getattr(client, method)(path, data={"csrf_token": csrf_token(page),
                                                   "name": "Hacked"})
    assert response.status_code == 302 and "/community/staff/login" in response.headers["Location"]
    assert [i.name for i in profiles.curated_interests()] == ["Hiking"]


def test_a_guest_is_not_staff(app, client, prop):
    from tests.views.test_guest import link_path
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    client.get(link_path(stay.guests[0].member, stay))
    assert client.get(PAGE).status_code == 302


def test_add_rename_and_remove(app, desk, prop):
    assert "No interests on the list yet" in text(desk.get(PAGE))
    for name in ("Hiking", "Food", "Jazz"):
        response = post_form(desk, PAGE, PAGE, {"name": name})
        assert response.status_code == 302
    assert listed(desk.get(PAGE)) == ["food", "hiking", "jazz"]

    duplicate = post_form(desk, PAGE, PAGE, {"name": " hiking "})
    assert duplicate.status_code == 302
    assert "already on the list" in text(desk.get(PAGE))
    post_form(desk, PAGE, PAGE, {"name": "  "})
    assert "Enter the interest" in text(desk.get(PAGE))

    food = interest("food")
    post_form(desk, PAGE, f"{PAGE}/{food.id}/rename", {"name": "Food & drink"})
    page = desk.get(PAGE)
    assert listed(page) == ["food &amp; drink", "hiking", "jazz"]
    assert "Renamed to “Food &amp; drink”." in text(page)
    post_form(desk, PAGE, f"{PAGE}/{food.id}/rename", {"name": "Jazz"})
    assert "already an interest called" in text(desk.get(PAGE))
    assert interest("food & drink").name == "Food & drink"

    post_form(desk, PAGE, f"{PAGE}/{interest('jazz').id}/remove")
    assert listed(desk.get(PAGE)) == ["food &amp; drink", "hiking"]
    assert interest("jazz") is None
    assert post_form(desk, PAGE, f"{PAGE}/999999/remove").status_code == 302
    assert "No such interest" in text(desk.get(PAGE))


def test_interests_guests_typed_can_be_added_to_the_list(app, desk, prop):
    member = check_in_by_hand(prop, "1204", ("Mei", "Chen")).guests[0].member
    profiles.update_profile(member, interests=["Board games"])
    page = desk.get(PAGE)
    assert "Typed by guests" in text(page) and "Board games" in text(page)
    post_form(desk, PAGE, PAGE, {"name": "Board games"})
    assert listed(desk.get(PAGE)) == ["board games"]
    assert interest("board games").curated is True
    assert "Typed by guests" not in text(desk.get(PAGE))


def test_removing_keeps_it_for_the_guests_who_chose_it(app, desk, prop):
    member = check_in_by_hand(prop, "1204", ("Mei", "Chen")).guests[0].member
    tea = profiles.add_curated_interest("Tea")
    profiles.update_profile(member, interests=["tea"])
    assert re.search(r'data-interest="tea">\s*<td>Tea</td>\s*<td>1</td>', text(desk.get(PAGE)))
    post_form(desk, PAGE, f"{PAGE}/{tea.id}/remove")
    assert listed(desk.get(PAGE)) == []
    assert [i.name for i in profiles.member_interests(member.id)] == ["Tea"]


def test_every_post_needs_the_pages_csrf_token(app, desk, prop):
    hiking = profiles.add_curated_interest("Hiking")
    foreign = csrf_token(app.test_client().get("/community/login"))
    for path in (PAGE, f"{PAGE}/{hiking.id}/rename", f"{PAGE}/{hiking.id}/remove"):
        for token in ({}, {"csrf_token": foreign}):
            response = desk.post(path, data={"name": "Forged", **token})
            assert response.status_code == 400, path
    assert [(i.name, i.curated) for i in profiles.curated_interests()] == [("Hiking", True)]


def test_names_are_escaped(app, desk, prop):
    post_form(desk, PAGE, PAGE, {"name": "<script>alert(1)</script>"})
    html = text(desk.get(PAGE))
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)" in html
