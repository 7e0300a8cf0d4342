"""A member's data: the download, and deleting the account without breaking anything else."""
from __future__ import annotations

import io
import json
import os

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from hotel_community.database import session, transaction
from hotel_community.errors import Forbidden
from hotel_community.models import (
    Block, Connection, ConnectionStatus, Group, GroupKind, GuestIdentity, Interest, Member,
    MemberInterest, Membership, Post, PostKind, Profile, Reaction, Report, Stay, StayGuest,
)
from hotel_community.services import access, privacy, profiles, staff_desk
from hotel_community.services.properties import groups_by_kind
from tests.factories import check_in_by_hand, event, guest


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"HOTEL_COMMUNITY_UPLOAD_FOLDER": str(tmp_path / "media")}


def photo() -> FileStorage:
    buffer = io.BytesIO()
    Image.new("RGB", (30, 30), (200, 30, 30)).save(buffer, format="PNG")
    return FileStorage(io.BytesIO(buffer.getvalue()), filename="me.png")


def add(*rows):
    with transaction():
        session.add_all(rows)
    return rows[0] if len(rows) == 1 else rows


def fresh(member: Member) -> Member:
    session.expire_all()
    return session.get(Member, member.id)


def count(model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def world(app, prop):
    """Mei (who will export or delete) and Ana, Tom, Eve at the same hotel, with a life."""
    mei_stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    mei = mei_stay.guests[0].member
    ana = check_in_by_hand(prop, "1205", ("Ana", "Lopez")).guests[0].member
    tom = check_in_by_hand(prop, "1206", ("Tom", "Weber")).guests[0].member
    eve = check_in_by_hand(prop, "1207", ("Eve", "Blocker")).guests[0].member
    with transaction():
        mei.email, mei.phone = "mei@example.com", "+86 138 0000 0001"
        ana.email = "ana.private@example.com"
    profiles.add_curated_interest("Hiking")
    profiles.update_profile(mei, display_name="Mei from Lyon", home_city="Lyon",
                            languages=["zh", "fr"], interests=["hiking", "mei-only topic",
                                                               "shared topic"],
                            contact=("wechat", "meichen88"), photo=photo(), visible=True)
    profiles.update_profile(ana, display_name="Ana L", contact=("email", "ana.contact@example.com"),
                            interests=["hiking", "shared topic"], photo=photo(), visible=True)
    stay_group = groups_by_kind(prop)[GroupKind.stay]
    post = add(Post(group_id=stay_group.id, author_id=mei.id, body="Anyone for dim sum?"))
    ana_post = add(Post(group_id=stay_group.id, author_id=ana.id, body="Pool at six"))
    reply = add(Post(group_id=stay_group.id, author_id=mei.id, parent_id=ana_post.id,
                     body="I'm in"))
    announcement = add(Post(group_id=stay_group.id, kind=PostKind.announcement,
                            staff_author="Front desk", body="Mixer tonight"))
    add(Reaction(post_id=ana_post.id, member_id=mei.id, kind="like"),
        Reaction(post_id=post.id, member_id=ana.id, kind="like"))
    add(Connection(requester_id=mei.id, addressee_id=ana.id, property_id=prop.id,
                   status=ConnectionStatus.accepted),
        Connection(requester_id=tom.id, addressee_id=mei.id, property_id=prop.id),
        Connection(requester_id=eve.id, addressee_id=mei.id, property_id=prop.id,
                   status=ConnectionStatus.accepted),
        Connection(requester_id=ana.id, addressee_id=tom.id, property_id=prop.id,
                   status=ConnectionStatus.accepted))
    add(Block(blocker_id=mei.id, blocked_id=tom.id), Block(blocker_id=eve.id, blocked_id=mei.id))
    add(Report(property_id=prop.id, reporter_id=mei.id, reported_member_id=tom.id,
               reason="rude"),
        Report(property_id=prop.id, reporter_id=ana.id, post_id=post.id, reason="spam?"))
    session.expire_all()
    return {"mei": session.get(Member, mei.id), "ana": session.get(Member, ana.id),
            "tom": session.get(Member, tom.id), "eve": session.get(Member, eve.id),
            "stay": mei_stay, "post": post.id, "reply": reply.id, "ana_post": ana_post.id,
            "announcement": announcement.id, "prop": prop}


# --- the download ------------------------------------------------------------------------

def test_the_export_holds_the_members_data(app, world):
    with app.test_request_context():
        data = privacy.export_data(world["mei"])
    assert data["member"]["first_name"] == "Mei" and data["member"]["email"] == "mei@example.com"
    assert data["member"]["visible_to_other_guests"] is True
    profile = data["profile"]
    assert profile["display_name"] == "Mei from Lyon" and profile["home_city"] == "Lyon"
    assert profile["languages"] == ["zh", "fr"]
    assert profile["contact"] == {"kind": "wechat", "value": "meichen88"}
    assert profile["photo"].startswith("http://localhost/community/media/")
    assert sorted(i["name"] for i in data["interests"]) == ["Hiking", "mei-only topic",
                                                           "shared topic"]
    assert [(s["property_code"], s["room"]) for s in data["stays"]] == [("TEST", "1204")]
    assert data["stays"][0]["arrival"] == world["stay"].arrival.isoformat()
    assert [(m["kind"], m["left_at"]) for m in data["memberships"]] == [("stay", None)]
    assert [(p["body"], p["reply_to"]) for p in data["posts"]] == [
        ("Anyone for dim sum?", None), ("I'm in", world["ana_post"])]
    assert [(r["post"], r["kind"]) for r in data["reactions"]] == [(world["ana_post"], "like")]
    assert {(c["with"], c["direction"], c["status"]) for c in data["connections"]} == {
        ("Ana L", "sent", "accepted"), ("Tom W.", "received", "pending")}
    assert [b["member"] for b in data["blocks"]] == ["Tom W."]
    assert [(r["member"], r["reason"]) for r in data["reports"]] == [("Tom W.", "rude")]
    assert data["exported_at"].endswith("Z")
    json.dumps(data)  # plain JSON values only


def test_the_export_never_holds_another_members_contact_or_a_blocker(app, world):
    with app.test_request_context():
        text = json.dumps(privacy.export_data(world["mei"]), ensure_ascii=False)
    for secret in ("ana.contact@example.com", "ana.private@example.com", "Lopez", "Pool at six",
                   "spam?", "Blocker", "Eve"):
        assert secret not in text, secret


def test_a_declined_request_is_not_in_the_requesters_export(app, world):
    zoe = check_in_by_hand(world["prop"], "1300", ("Zoe", "Kim")).guests[0].member
    with transaction():
        session.add(Connection(requester_id=world["mei"].id, addressee_id=zoe.id,
                               property_id=world["prop"].id, status=ConnectionStatus.declined))
    with app.test_request_context():
        mine = privacy.export_data(fresh(world["mei"]))["connections"]
        zoes = privacy.export_data(fresh(zoe))["connections"]
        toms = privacy.export_data(fresh(world["tom"]))["connections"]
    assert "Zoe K." not in {c["with"] for c in mine}
    assert [(c["with"], c["direction"], c["status"]) for c in zoes] == [
        ("Mei from Lyon", "received", "declined")]
    # Mei blocked Tom: his export does not name her, not even his own request to her.
    assert "Mei from Lyon" not in {c["with"] for c in toms}


# --- deleting the account ----------------------------------------------------------------

def test_deleting_anonymizes_posts_and_removes_what_is_theirs_alone(app, world):
    mei = world["mei"]
    photo_key = mei.profile.photo
    privacy.delete_account(mei)
    session.expire_all()

    post, reply = session.get(Post, world["post"]), session.get(Post, world["reply"])
    assert (post.author_id, post.body) == (None, "Anyone for dim sum?")
    assert (reply.author_id, reply.parent_id, reply.body) == (None, world["ana_post"], "I'm in")
    assert count(Reaction, Reaction.member_id == mei.id) == 0
    assert count(Reaction, Reaction.post_id == world["post"]) == 1  # Ana's like stays
    assert count(Connection, (Connection.requester_id == mei.id)
                 | (Connection.addressee_id == mei.id)) == 0
    assert count(Block, Block.blocker_id == mei.id) == 0
    assert count(Report, Report.reporter_id == mei.id) == 0
    assert session.scalar(select(Report.reason).where(Report.reported_member_id
                                                      == world["tom"].id)) == "rude"
    assert session.get(Profile, mei.id) is None
    assert not os.path.exists(os.path.join(app.config["HOTEL_COMMUNITY_UPLOAD_FOLDER"],
                                           photo_key))
    assert count(MemberInterest, MemberInterest.member_id == mei.id) == 0
    slugs = set(session.scalars(select(Interest.slug)))
    assert slugs == {"hiking", "shared topic"}  # the free one only Mei had is gone

    member = session.get(Member, mei.id)
    assert (member.first_name, member.last_name, member.email, member.phone,
            member.language, member.visible) == ("", "", None, None, None, False)
    assert member.deleted_at is not None
    assert member.display_name == "Guest"
    assert count(GuestIdentity, GuestIdentity.member_id == mei.id) == 0
    assert count(Membership, Membership.member_id == mei.id, Membership.left_at.is_(None)) == 0


def test_deleting_keeps_the_stays_and_everyone_elses_data(app, world):
    mei, ana, eve = world["mei"], world["ana"], world["eve"]
    ana_photo = ana.profile.photo
    guests_before = count(StayGuest)
    privacy.delete_account(mei)
    session.expire_all()

    assert count(StayGuest) == guests_before
    assert session.scalar(select(StayGuest.member_id).where(
        StayGuest.stay_id == world["stay"].id)) == mei.id
    ana = session.get(Member, ana.id)
    assert ana.display_name == "Ana L" and ana.profile.contact_value == "ana.contact@example.com"
    assert os.path.exists(os.path.join(app.config["HOTEL_COMMUNITY_UPLOAD_FOLDER"], ana_photo))
    assert sorted(i.name for i in profiles.member_interests(ana.id)) == ["Hiking",
                                                                         "shared topic"]
    assert count(Connection, Connection.requester_id == ana.id) == 1  # Ana and Tom
    assert count(Block, Block.blocker_id == eve.id) == 1  # Eve's own block stays hers
    assert count(Report, Report.reporter_id == ana.id) == 1
    assert session.get(Post, world["ana_post"]).author_id == ana.id
    assert session.get(Post, world["announcement"]).body == "Mixer tonight"
    assert count(Membership, Membership.member_id == ana.id, Membership.left_at.is_(None)) == 1


def test_a_deleted_members_access_link_is_refused(app, world):
    mei, stay = world["mei"], world["stay"]
    with app.test_request_context():
        token = access.access_token(mei, stay)
        assert access.redeem_access_token(token)[0].id == mei.id
        privacy.delete_account(mei)
        with pytest.raises(access.AccessDenied):
            access.redeem_access_token(token)


def test_a_later_pms_event_makes_a_new_member(app, prop, api):
    payload = event("R-77", guests=[guest("Lina", "Park", "G-LINA")], room="301")
    assert api.send_event(payload).status_code == 200
    lina = session.scalar(select(Member).where(Member.first_name == "Lina"))
    privacy.delete_account(lina)

    again = event("R-77", guests=[guest("Lina", "Park", "G-LINA")], room="302", minute=5)
    assert api.send_event(again).status_code == 200
    session.expire_all()
    members = session.scalars(select(Member).order_by(Member.id)).all()
    assert [(m.first_name, m.deleted_at is None) for m in members] == [("", False),
                                                                      ("Lina", True)]
    new = members[1]
    assert session.scalar(select(GuestIdentity.member_id).where(
        GuestIdentity.pms_guest_id == "G-LINA")) == new.id
    assert new.visible is False and new.profile is None


def test_an_account_is_deleted_once(app, world):
    privacy.delete_account(world["mei"])
    with pytest.raises(Forbidden):
        privacy.delete_account(fresh(world["mei"]))


def test_a_member_without_a_profile_can_delete(app, prop):
    solo = check_in_by_hand(prop, "1300", ("Solo", "Guest")).guests[0].member
    privacy.delete_account(solo)
    assert fresh(solo).deleted_at is not None


def test_a_later_check_out_of_a_shared_stay_leaves_the_deleted_member_out(app, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"), ("Ana", "Lopez"))
    mei, ana = stay.guests[0].member, stay.guests[1].member
    privacy.delete_account(mei)
    session.expire_all()
    staff_desk.check_out(session.get(Stay, stay.id))
    session.expire_all()
    open_groups = dict(session.execute(
        select(Membership.member_id, Group.kind).join(Group, Group.id == Membership.group_id)
        .where(Membership.left_at.is_(None))).all())
    assert open_groups == {ana.id: GroupKind.alumni}
    assert count(StayGuest, StayGuest.stay_id == stay.id) == 2
