"""The guest's profile page, their data download and account deletion."""
from __future__ import annotations

import io
import json
import os
import re

import pytest
from PIL import Image
from sqlalchemy import select

from hotel_community.database import session, transaction
from hotel_community.models import (
    Connection, ConnectionStatus, GroupKind, Member, Post, Profile, StayGuest,
)
from hotel_community.services import profiles
from hotel_community.services.properties import groups_by_kind
from tests.factories import check_in_by_hand, csrf_token
from tests.views.test_guest import link_path, member_of, page_text, signed_in_member

PROFILE = "/community/profile"


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"HOTEL_COMMUNITY_UPLOAD_FOLDER": str(tmp_path / "media"),
            "HOTEL_COMMUNITY_MAX_PHOTO_BYTES": 100_000}


@pytest.fixture
def mei_stay(app, prop):
    return check_in_by_hand(prop, "1204", ("Mei", "Chen"))


@pytest.fixture
def mei(app, client, mei_stay) -> Member:
    """Mei, signed in on ``client``."""
    member = member_of(mei_stay)
    assert client.get(link_path(member, mei_stay)).status_code == 302
    return member


def image_bytes(size=(80, 60), image_format="PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 90)).save(buffer, format=image_format)
    return buffer.getvalue()


def form_data(page, **fields) -> dict:
    """A full profile form as a browser sends it (checkboxes only when ticked)."""
    data = {"csrf_token": csrf_token(page), "display_name": "", "home_city": "",
            "other_interests": "", "contact_kind": "", "contact_value": ""}
    data.update(fields)
    return data


def save(client, **fields):
    page = client.get(PROFILE)
    return client.post(PROFILE, data=form_data(page, **fields),
                       content_type="multipart/form-data")


def fresh(member: Member) -> Member:
    session.expire_all()
    return session.get(Member, member.id)


def media_files(app) -> list[str]:
    folder = app.config["HOTEL_COMMUNITY_UPLOAD_FOLDER"]
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


# --- the page ----------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [("get", PROFILE), ("post", PROFILE),
                                          ("get", f"{PROFILE}/export"),
                                          ("get", f"{PROFILE}/delete")])
def test_the_profile_pages_need_a_signed_in_guest(app, client, prop, method, path):
    response = getattr(client, method)(path)
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert response.headers["Location"].endswith("/community/login")


def test_the_stay_group_and_alumni_pages_link_the_profile(app, client, prop, mei, mei_stay):
    assert 'href="/community/profile"' in page_text(client.get("/community/group"))
    from hotel_community.services import staff_desk
    staff_desk.check_out(mei_stay)
    html = page_text(client.get("/community/group"))
    assert "Welcome back" in html and 'href="/community/profile"' in html


def test_a_new_profile_is_invisible_and_shows_the_default_name(app, client, mei):
    html = page_text(client.get(PROFILE))
    assert 'name="visible" id="visible"' in html
    assert not re.search(r'name="visible" id="visible" checked', html)
    assert 'placeholder="Mei C."' in html
    assert "Download my data" in html and "Delete my account" in html
    assert fresh(mei).visible is False


def test_saving_the_profile(app, client, mei):
    profiles.add_curated_interest("Hiking")
    profiles.add_curated_interest("Jazz")
    response = save(client, display_name="Mei from Lyon", home_city="Lyon",
                    languages=["zh", "fr"], interests=["hiking"],
                    other_interests="dim sum, Trail running", visible="y",
                    contact_kind="wechat", contact_value="meichen88")
    assert response.status_code == 302 and response.headers["Location"].endswith(PROFILE)
    member = fresh(mei)
    assert member.display_name == "Mei from Lyon" and member.visible is True
    assert member.profile.home_city == "Lyon" and member.profile.languages == ["zh", "fr"]
    assert (member.profile.contact_kind, member.profile.contact_value) == ("wechat", "meichen88")
    assert sorted(i.name for i in profiles.member_interests(mei.id)) == [
        "Hiking", "Trail running", "dim sum"]

    html = page_text(client.get(PROFILE))
    assert "Your profile is saved." in html
    assert re.search(r'value="hiking" checked', html) and not re.search(r'value="jazz" checked',
                                                                         html)
    assert re.search(r'value="fr" checked', html) and not re.search(r'value="en" checked', html)
    assert 'value="dim sum, Trail running"' in html
    assert re.search(r'name="visible" id="visible" checked', html)
    assert 'value="meichen88"' in html


def test_a_refused_field_shows_the_form_again_and_saves_nothing(app, client, mei):
    response = save(client, home_city="Lyon", contact_kind="email", contact_value="not-an-email")
    assert response.status_code == 422
    html = page_text(response)
    assert "Enter a valid e-mail address." in html
    assert 'value="Lyon"' in html  # what was typed is kept on the page
    assert fresh(mei).profile is None

    too_many = ", ".join(f"topic {n}" for n in range(21))
    response = save(client, other_interests=too_many)
    assert response.status_code == 422 and "Choose at most 20 interests." in page_text(response)


def test_the_visibility_switches_on_the_profile_and_the_group_page_agree(app, client, mei):
    save(client, visible="y")
    assert re.search(r'name="visible" checked', page_text(client.get("/community/group")))
    page = client.get("/community/group")
    client.post("/community/visibility", data={"csrf_token": csrf_token(page)})
    assert fresh(mei).visible is False
    assert not re.search(r'name="visible" id="visible" checked', page_text(client.get(PROFILE)))


def test_a_guest_sees_and_edits_only_their_own_profile(app, prop, mei):
    ana_stay = check_in_by_hand(prop, "1205", ("Ana", "Lopez"))
    ana = member_of(ana_stay)
    profiles.update_profile(ana, display_name="Ana Secret", home_city="Madrid",
                            contact=("email", "ana@example.com"))
    rules = [r for r in app.url_map.iter_rules()
             if r.endpoint.startswith("hotel_community.profile.")]
    assert rules and all(not r.arguments for r in rules)  # no member id in any URL

    other = app.test_client()
    other.get(link_path(ana, ana_stay))
    html = page_text(other.get(PROFILE))
    assert "Ana Secret" in html and "Mei" not in html
    # A member id slipped into the form changes nothing: it is always the signed-in guest.
    page = other.get(PROFILE)
    other.post(PROFILE, data=form_data(page, member_id=str(mei.id), display_name="Hacked",
                                       home_city="Madrid"),
               content_type="multipart/form-data")
    assert fresh(mei).profile is None
    assert fresh(ana).display_name == "Hacked"


def test_script_in_a_display_name_or_home_city_is_escaped(app, client, prop, mei):
    evil = '<script>alert("x")</script>'
    ana_stay = check_in_by_hand(prop, "1205", ("Ana", "Lopez"))
    ana = member_of(ana_stay)
    profiles.update_profile(ana, display_name=evil, home_city=evil, visible=True)
    save(client, display_name=evil, home_city=evil)

    own = page_text(client.get(PROFILE))
    group = page_text(client.get("/community/group"))
    for html in (own, group):
        assert evil not in html
        assert "&lt;script&gt;alert(" in html


# --- the photo ---------------------------------------------------------------------------

def test_a_photo_upload_is_shown_replaced_and_removed(app, client, mei):
    response = save(client, photo=(io.BytesIO(image_bytes()), "me.png"))
    assert response.status_code == 302
    first = fresh(mei).profile.photo
    assert media_files(app) == [first]
    html = page_text(client.get(PROFILE))
    assert f'src="/community/media/{first}"' in html
    assert client.get(f"/community/media/{first}").mimetype == "image/jpeg"

    save(client, photo=(io.BytesIO(image_bytes(image_format="JPEG")), "me.jpg"))
    second = fresh(mei).profile.photo
    assert second != first and media_files(app) == [second]

    save(client, remove_photo="y")
    assert fresh(mei).profile.photo is None and media_files(app) == []


@pytest.mark.parametrize("data, name", [
    (b"<html><script>alert(1)</script></html>", "me.jpg"),
    (b"GIF89a" + b"\0" * 64, "me.gif"),
    (None, "big.png"),  # a real PNG over the 100 kB of these tests
], ids=["script", "gif", "too-large"])
def test_a_photo_that_is_not_a_photo_or_too_large_is_refused(app, client, mei, data, name):
    if data is None:
        buffer = io.BytesIO()
        Image.frombytes("RGB", (300, 300), os.urandom(300 * 300 * 3)).save(buffer, format="PNG")
        data = buffer.getvalue()
    response = save(client, photo=(io.BytesIO(data), name), home_city="Lyon")
    assert response.status_code == 422
    assert "photo" in page_text(response).lower()
    assert media_files(app) == [] and fresh(mei).profile is None


# --- CSRF --------------------------------------------------------------------------------

def test_profile_and_delete_need_the_pages_csrf_token(app, client, prop, mei):
    foreign = csrf_token(app.test_client().get("/community/login"))
    for token in (None, foreign):
        data = {"display_name": "Forged", "visible": "y"}
        if token:
            data["csrf_token"] = token
        assert client.post(PROFILE, data=data).status_code == 400
        assert client.post(f"{PROFILE}/delete", data=data).status_code == 400
    member = fresh(mei)
    assert member.profile is None and member.visible is False and member.deleted_at is None


# --- the download ------------------------------------------------------------------------

def test_the_export_downloads_the_members_own_data(app, client, prop, mei):
    save(client, display_name="Mei from Lyon", contact_kind="wechat", contact_value="meichen88")
    ana = member_of(check_in_by_hand(prop, "1205", ("Ana", "Lopez")))
    profiles.update_profile(ana, display_name="Ana L", contact=("email", "ana@example.com"),
                            visible=True)
    group = groups_by_kind(prop)[GroupKind.stay]
    with transaction():
        session.add_all([
            Post(group_id=group.id, author_id=mei.id, body="Dim sum at noon?"),
            Post(group_id=group.id, author_id=ana.id, body="Ana's own post"),
            Connection(requester_id=mei.id, addressee_id=ana.id, property_id=prop.id,
                       status=ConnectionStatus.accepted)])

    response = client.get(f"{PROFILE}/export")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert data["member"]["id"] == mei.id
    assert data["profile"]["contact"] == {"kind": "wechat", "value": "meichen88"}
    assert [p["body"] for p in data["posts"]] == ["Dim sum at noon?"]
    assert [c["with"] for c in data["connections"]] == ["Ana L"]
    raw = response.get_data(as_text=True)
    assert "ana@example.com" not in raw and "Ana's own post" not in raw and "Lopez" not in raw


# --- deleting the account ----------------------------------------------------------------

def test_deleting_the_account(app, client, prop, mei, mei_stay):
    save(client, display_name="Mei from Lyon", contact_kind="wechat", contact_value="meichen88",
         visible="y", photo=(io.BytesIO(image_bytes()), "me.png"))
    ana_stay = check_in_by_hand(prop, "1205", ("Ana", "Lopez"))
    ana = member_of(ana_stay)
    profiles.update_profile(ana, display_name="Ana L", visible=True,
                            contact=("email", "ana@example.com"))
    group = groups_by_kind(prop)[GroupKind.stay]
    with transaction():
        post = Post(group_id=group.id, author_id=mei.id, body="See you at the mixer")
        session.add_all([post, Connection(requester_id=ana.id, addressee_id=mei.id,
                                          property_id=prop.id,
                                          status=ConnectionStatus.accepted)])
    post_id = post.id
    photo_key = fresh(mei).profile.photo

    confirm = client.get(f"{PROFILE}/delete")
    assert confirm.status_code == 200 and "This cannot be undone" in page_text(confirm)
    assert fresh(mei).deleted_at is None  # the GET deletes nothing

    response = client.post(f"{PROFILE}/delete", data={"csrf_token": csrf_token(confirm)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert signed_in_member(client) is None
    assert "Your account is deleted." in page_text(client.get("/community/login"))
    assert client.get(PROFILE).status_code == 302

    member = fresh(mei)
    assert member.deleted_at is not None and member.first_name == "" and member.visible is False
    assert session.get(Profile, mei.id) is None and media_files(app) == []
    assert photo_key not in media_files(app)
    assert session.get(Post, post_id).author_id is None
    assert session.get(Post, post_id).body == "See you at the mixer"
    assert session.scalar(select(Connection.id)) is None
    assert session.scalar(select(StayGuest.id).where(StayGuest.member_id == mei.id)) is not None

    # The old link does not sign in again.
    again = client.get(link_path(member, mei_stay))
    assert again.status_code == 403 and signed_in_member(client) is None

    # Ana is untouched and her stay group page still renders.
    ana_client = app.test_client()
    ana_client.get(link_path(ana, ana_stay))
    html = page_text(ana_client.get("/community/group"))
    assert "Welcome, Ana L" in html
    assert "Mei" not in html
    assert fresh(ana).profile.contact_value == "ana@example.com"


def test_another_session_of_a_deleted_member_is_signed_out(app, client, prop, mei, mei_stay):
    second = app.test_client()
    second.get(link_path(mei, mei_stay))
    confirm = client.get(f"{PROFILE}/delete")
    client.post(f"{PROFILE}/delete", data={"csrf_token": csrf_token(confirm)})

    page = second.get(PROFILE)
    assert page.status_code == 302 and signed_in_member(second) is None
    assert fresh(mei).profile is None
