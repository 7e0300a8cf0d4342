"""Reports and staff moderation: who may report what, the queue, and every staff action."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from hotel_community.database import session, transaction
from hotel_community.errors import Conflict, Forbidden, NotFound, ValidationFailed
from hotel_community.models import (
    Group, GroupKind, Member, Membership, Post, PostKind, Property, Report, Stay, StayStatus,
)
from hotel_community.services import community, moderation, staff_desk
from hotel_community.services.checkin import GuestSnapshot, StaySnapshot, apply_staff_change
from hotel_community.services.properties import create_property, groups_by_kind
from tests.factories import check_in_by_hand

STAFF = "Front Desk"


def guests_in(prop: Property, room: str, *names: tuple[str, str]) -> list[Member]:
    stay = check_in_by_hand(prop, room, *names)
    return [guest.member for guest in stay.guests]


def group_of(prop: Property, kind: GroupKind = GroupKind.stay) -> Group:
    return groups_by_kind(prop)[kind]


def add_post(author: Member | None, group: Group, body: str = "Anyone for a swim?",
             **columns) -> Post:
    with transaction():
        post = Post(group_id=group.id, author_id=author.id if author else None, body=body,
                    **columns)
        session.add(post)
    return post


def membership(member: Member, group: Group) -> Membership:
    session.expire_all()
    return session.scalar(select(Membership).where(
        Membership.member_id == member.id, Membership.group_id == group.id,
        Membership.left_at.is_(None)))


def report_count() -> int:
    return session.scalar(select(func.count()).select_from(Report))


@pytest.fixture
def three(app, prop) -> tuple[Member, Member, Member]:
    """Mei and Ana share room 1204; Tom is in 1301; all in the stay group of ``prop``."""
    mei, ana = guests_in(prop, "1204", ("Mei", "Chen"), ("Ana", "Lopez"))
    (tom,) = guests_in(prop, "1301", ("Tom", "Berg"))
    return mei, ana, tom


@pytest.fixture
def other_hotel(app) -> Property:
    return create_property("OTHER", "Other Hotel", "Europe/Paris", "EUR")


# --- reporting a post ------------------------------------------------------------------------

def test_a_member_reports_a_post_of_their_group(three, prop):
    mei, ana, _ = three
    post = add_post(ana, group_of(prop))

    report = moderation.report_post(mei, post, "  Rude to other guests  ")

    assert (report.property_id, report.reporter_id, report.post_id) == (prop.id, mei.id, post.id)
    assert report.reported_member_id is None and report.handled_at is None
    assert report.reason == "Rude to other guests"


def test_the_report_goes_to_the_property_of_the_posts_group(three, prop, other_hotel):
    (sam,) = guests_in(other_hotel, "10", ("Sam", "Roe"))
    (lea,) = guests_in(other_hotel, "11", ("Lea", "Fox"))
    post = add_post(lea, group_of(other_hotel))

    report = moderation.report_post(sam, post, "spam")

    assert report.property_id == other_hotel.id
    assert moderation.open_reports(prop) == []
    assert [item.report_id for item in moderation.open_reports(other_hotel)] == [report.id]


def test_a_guest_cannot_report_a_post_of_a_group_they_are_not_in(three, prop, other_hotel):
    mei, ana, _ = three
    (sam,) = guests_in(other_hotel, "10", ("Sam", "Roe"))
    post = add_post(ana, group_of(prop))

    with pytest.raises(Forbidden):
        moderation.report_post(sam, post, "I do not like it")
    alumni_post = add_post(ana, group_of(prop, GroupKind.alumni))
    with pytest.raises(Forbidden):  # Mei is in house, not (yet) in the alumni community
        moderation.report_post(mei, alumni_post, "I do not like it")
    assert report_count() == 0


def test_a_checked_out_guest_cannot_report_in_the_stay_group(app, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    (ana,) = guests_in(prop, "1301", ("Ana", "Lopez"))
    post = add_post(ana, group_of(prop))
    staff_desk.check_out(stay)

    with pytest.raises(Forbidden):
        moderation.report_post(stay.guests[0].member, post, "rude words")
    assert report_count() == 0


def test_a_removed_member_cannot_report(three, prop):
    mei, ana, _ = three
    post = add_post(ana, group_of(prop))
    moderation.remove_member(mei.id, group_of(prop).id, STAFF)

    with pytest.raises(Forbidden):
        moderation.report_post(mei, post, "rude words")
    with pytest.raises(Forbidden):
        moderation.report_member(mei, ana, "rude words")
    assert report_count() == 0


@pytest.mark.parametrize("reason", ["", "  ", "ab", " ab ", "x" * 501])
def test_a_reason_has_3_to_500_characters(three, prop, reason):
    mei, ana, _ = three
    post = add_post(ana, group_of(prop))
    with pytest.raises(ValidationFailed):
        moderation.report_post(mei, post, reason)
    with pytest.raises(ValidationFailed):
        moderation.report_member(mei, ana, reason)
    assert report_count() == 0


@pytest.mark.parametrize("reason", ["abc", "x" * 500])
def test_the_shortest_and_the_longest_reason_are_fine(three, prop, reason):
    mei, ana, _ = three
    assert moderation.report_post(mei, add_post(ana, group_of(prop)), reason).reason == reason


def test_one_open_report_per_reporter_and_post(three, prop):
    mei, ana, tom = three
    post = add_post(ana, group_of(prop))
    first = moderation.report_post(mei, post, "rude words")

    with pytest.raises(Conflict):
        moderation.report_post(mei, post, "still rude")
    moderation.report_post(tom, post, "rude to me too")  # another reporter: fine
    assert report_count() == 2

    moderation.handle_report(first.id, "dismiss", STAFF)
    moderation.report_post(mei, post, "it got worse")  # the first one is closed
    assert report_count() == 3


def test_a_member_cannot_report_their_own_post_or_a_hidden_one(three, prop):
    mei, ana, _ = three
    with pytest.raises(ValidationFailed):
        moderation.report_post(mei, add_post(mei, group_of(prop)), "oops")
    hidden = add_post(ana, group_of(prop))
    moderation.hide_post(hidden.id, STAFF)
    with pytest.raises(NotFound):
        moderation.report_post(mei, hidden, "rude words")
    with pytest.raises(NotFound):
        moderation.reportable_post(mei, 999_999)
    assert report_count() == 0


# --- reporting a member ----------------------------------------------------------------------

def test_a_member_reports_another_member_of_their_group(three, prop):
    mei, _, tom = three
    report = moderation.report_member(mei, tom, "keeps knocking on my door")
    assert (report.property_id, report.reporter_id, report.reported_member_id) == (
        prop.id, mei.id, tom.id)
    assert report.post_id is None
    with pytest.raises(Conflict):
        moderation.report_member(mei, tom, "again")


def test_a_guest_cannot_report_a_member_of_no_shared_group(three, other_hotel):
    mei, *_ = three
    (sam,) = guests_in(other_hotel, "10", ("Sam", "Roe"))
    with pytest.raises(Forbidden):
        moderation.report_member(mei, sam, "a stranger")
    with pytest.raises(Forbidden):
        moderation.report_member(sam, mei, "a stranger")
    with pytest.raises(ValidationFailed):
        moderation.report_member(mei, mei, "myself")
    with pytest.raises(NotFound):
        moderation.reportable_member(mei, 999_999)
    assert report_count() == 0


def test_the_reporter_sees_the_name_only_of_a_visible_unblocked_member(three):
    from hotel_community.models import Block

    mei, ana, tom = three
    assert moderation.name_for_reporter(mei, tom) is None  # invisible by default
    community.set_visible(tom.id, True)
    community.set_visible(ana.id, True)
    session.expire_all()
    assert moderation.name_for_reporter(mei, tom) == "Tom B."
    with transaction():
        session.add(Block(blocker_id=tom.id, blocked_id=mei.id))
        session.add(Block(blocker_id=mei.id, blocked_id=ana.id))
    assert moderation.name_for_reporter(mei, tom) is None
    assert moderation.name_for_reporter(mei, ana) is None


# --- the queue -------------------------------------------------------------------------------

def test_the_queue_lists_open_reports_oldest_first_in_keyset_pages(three, prop):
    mei, ana, tom = three
    posts = [add_post(ana, group_of(prop), f"post {n}") for n in range(5)]
    reports = [moderation.report_post(mei, post, f"reason {n}") for n, post in enumerate(posts)]
    member_report = moderation.report_member(tom, ana, "loud at night")
    moderation.handle_report(reports[1].id, "dismiss", STAFF)
    open_ids = [reports[0].id, reports[2].id, reports[3].id, reports[4].id, member_report.id]

    first = moderation.open_reports(prop, limit=3)
    second = moderation.open_reports(prop, after=first[-1].report_id, limit=3)
    assert [i.report_id for i in first + second] == open_ids
    assert moderation.open_reports(prop, after=open_ids[-1]) == []

    item = first[0]
    assert (item.kind, item.reason, item.reporter_name, item.member_name, item.post_body,
            item.group_name) == ("post", "reason 0", "Mei C.", "Ana L.", "post 0",
                                 group_of(prop).name)
    last = second[-1]
    assert (last.kind, last.member_id, last.member_name, last.post_id) == (
        "member", ana.id, "Ana L.", None)


def test_the_queue_costs_the_same_queries_for_one_report_or_many(three, prop, app):
    from sqlalchemy import event

    mei, ana, tom = three
    moderation.report_post(mei, add_post(ana, group_of(prop)), "reason one")

    def statements() -> int:
        seen: list[str] = []
        engine = app.extensions["sqlalchemy"].engine
        listener = lambda *args: seen.append(args[2])
        event.listen(engine, "before_cursor_execute", listener)
        try:
            session.expire_all()
            moderation.open_reports(prop)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen)

    one = statements()
    for n in range(6):
        moderation.report_post(tom, add_post(mei if n % 2 else ana, group_of(prop)), "reason")
    moderation.report_member(tom, ana, "reason member")
    assert statements() == one


# --- staff act on a report -------------------------------------------------------------------

def test_hiding_a_post_hides_it_for_everyone_and_closes_its_reports(three, prop):
    mei, ana, tom = three
    post = add_post(ana, group_of(prop))
    first = moderation.report_post(mei, post, "rude words")
    second = moderation.report_post(tom, post, "rude to me too")
    other = moderation.report_post(tom, add_post(ana, group_of(prop)), "another post")

    moderation.handle_report(first.id, "hide", STAFF)

    session.expire_all()
    assert session.get(Post, post.id).hidden_at is not None
    visible = select(Post.id).where(Post.group_id == group_of(prop).id, Post.hidden_at.is_(None))
    assert post.id not in set(session.scalars(visible))
    for report in (first, second):
        closed = session.get(Report, report.id)
        assert (closed.action, closed.handled_by) == ("hide", STAFF)
        assert closed.handled_at is not None
    assert session.get(Report, other.id).handled_at is None


def test_a_report_is_handled_once(three, prop):
    mei, ana, _ = three
    report = moderation.report_post(mei, add_post(ana, group_of(prop)), "rude words")
    moderation.handle_report(report.id, "dismiss", STAFF)
    with pytest.raises(Conflict):
        moderation.handle_report(report.id, "hide", STAFF)
    with pytest.raises(NotFound):
        moderation.handle_report(999_999, "dismiss", STAFF)
    with pytest.raises(ValidationFailed):
        moderation.handle_report(report.id, "ban", STAFF)


def test_dismissing_changes_nothing_but_the_report(three, prop):
    mei, ana, tom = three
    post = add_post(ana, group_of(prop))
    report = moderation.report_post(mei, post, "rude words")
    sibling = moderation.report_post(tom, post, "rude words")

    moderation.handle_report(report.id, "dismiss", STAFF)

    session.expire_all()
    assert session.get(Post, post.id).hidden_at is None
    assert membership(ana, group_of(prop)).muted_at is None
    assert session.get(Report, report.id).action == "dismiss"
    assert session.get(Report, sibling.id).handled_at is None


def test_a_member_report_cannot_hide_a_post(three, prop):
    mei, ana, _ = three
    report = moderation.report_member(mei, ana, "rude at breakfast")
    with pytest.raises(ValidationFailed):
        moderation.handle_report(report.id, "hide", STAFF)
    session.expire_all()
    assert session.get(Report, report.id).handled_at is None


def test_muting_sets_the_flag_on_the_open_membership_and_unmuting_clears_it(three, prop):
    mei, ana, tom = three
    post = add_post(ana, group_of(prop))
    report = moderation.report_post(mei, post, "rude words")
    about_ana = moderation.report_member(tom, ana, "rude at breakfast")

    moderation.handle_report(report.id, "mute", STAFF)

    muted = membership(ana, group_of(prop))
    assert muted.muted_at is not None and muted.removed_at is None
    assert membership(mei, group_of(prop)).muted_at is None
    assert session.get(Report, report.id).action == "mute"
    assert session.get(Report, about_ana.id).action == "mute"  # closed with it
    assert session.get(Post, post.id).hidden_at is None  # muting hides nothing
    community.require_membership(ana.id, group_of(prop).id)  # a muted member still reads

    moderation.unmute_member(ana.id, group_of(prop).id)
    assert membership(ana, group_of(prop)).muted_at is None


def stay_with_email(prop: Property, reservation_id: str, room: str, first: str, last: str,
                    email: str):
    return apply_staff_change(prop, StaySnapshot(
        reservation_id=reservation_id, status=StayStatus.in_house, room=room,
        arrival=date(2026, 1, 1), departure=date(2099, 1, 1),
        guests=(GuestSnapshot(first, last, email=email, primary=True),))).stay


def test_a_member_report_mutes_in_the_groups_of_the_property_only(three, prop, other_hotel):
    mei, *_ = three
    ana = stay_with_email(prop, "R-1", "1401", "Ana", "Lopez", "ana@example.com").guests[0].member
    again = stay_with_email(other_hotel, "X-1", "20", "Ana", "Lopez", "ana@example.com")
    assert again.guests[0].member_id == ana.id  # one member, in house at both hotels
    report = moderation.report_member(mei, ana, "rude at breakfast")

    moderation.handle_report(report.id, "mute", STAFF)

    assert membership(ana, group_of(prop)).muted_at is not None
    assert membership(ana, group_of(other_hotel)).muted_at is None


def test_removing_takes_away_access_until_the_next_stay(app, prop):
    stay = stay_with_email(prop, "R-1", "1204", "Ana", "Lopez", "ana@example.com")
    ana = stay.guests[0].member
    (mei,) = guests_in(prop, "1301", ("Mei", "Chen"))
    report = moderation.report_member(mei, ana, "harassing guests")

    moderation.handle_report(report.id, "remove", STAFF)

    assert membership(ana, group_of(prop)).removed_at is not None
    with pytest.raises(Forbidden):
        community.require_membership(ana.id, group_of(prop).id)
    assert group_of(prop).id not in {g.id for g in community.groups_of_member(ana.id)}
    assert [r.member_id for r in moderation.restrictions(prop)] == [ana.id]

    staff_desk.check_out(session.get(Stay, stay.id))
    stay_with_email(prop, "R-2", "1500", "Ana", "Lopez", "ana@example.com")
    fresh = community.require_membership(ana.id, group_of(prop).id)  # a new membership
    assert fresh.removed_at is None


def test_restoring_a_removed_member_lets_them_back_in(three, prop):
    _, ana, _ = three
    moderation.remove_member(ana.id, group_of(prop).id, STAFF)
    with pytest.raises(Forbidden):
        community.require_membership(ana.id, group_of(prop).id)

    moderation.restore_member(ana.id, group_of(prop).id)

    assert community.require_membership(ana.id, group_of(prop).id).removed_at is None
    assert moderation.restrictions(prop) == []


def test_a_post_without_a_guest_author_can_be_hidden_but_nobody_muted(three, prop):
    mei, *_ = three
    announcement = add_post(None, group_of(prop), "Mixer at 8", kind=PostKind.announcement,
                            staff_author="Front Desk")
    report = moderation.report_post(mei, announcement, "too loud")
    for action in ("mute", "remove"):
        with pytest.raises(ValidationFailed):
            moderation.handle_report(report.id, action, STAFF)
    moderation.handle_report(report.id, "hide", STAFF)
    session.expire_all()
    assert session.get(Post, announcement.id).hidden_at is not None


def test_nothing_to_mute_once_the_member_left_the_group(app, prop):
    stay = check_in_by_hand(prop, "1204", ("Ana", "Lopez"))
    ana = stay.guests[0].member
    (mei,) = guests_in(prop, "1301", ("Mei", "Chen"))
    report = moderation.report_post(mei, add_post(ana, group_of(prop)), "rude words")
    staff_desk.check_out(stay)

    with pytest.raises(ValidationFailed):
        moderation.handle_report(report.id, "mute", STAFF)
    with pytest.raises(ValidationFailed):
        moderation.mute_member(ana.id, group_of(prop).id, STAFF)
    moderation.handle_report(report.id, "hide", STAFF)  # the post can still go


# --- staff act directly ----------------------------------------------------------------------

def test_staff_hide_and_show_a_post_directly(three, prop):
    mei, ana, _ = three
    post = add_post(ana, group_of(prop))
    report = moderation.report_post(mei, post, "rude words")

    moderation.hide_post(post.id, STAFF)
    session.expire_all()
    assert session.get(Post, post.id).hidden_at is not None
    assert session.get(Report, report.id).action == "hide"

    moderation.unhide_post(post.id)
    session.expire_all()
    assert session.get(Post, post.id).hidden_at is None
    with pytest.raises(NotFound):
        moderation.hide_post(999_999, STAFF)


def test_staff_mute_and_remove_directly_and_see_them_listed(three, prop):
    _, ana, tom = three
    stay_group = group_of(prop)
    moderation.mute_member(ana.id, stay_group.id, STAFF)
    moderation.remove_member(tom.id, stay_group.id, STAFF)

    rows = moderation.restrictions(prop)
    assert [(r.member_name, r.muted_at is not None, r.removed_at is not None) for r in rows] == [
        ("Ana L.", True, False), ("Tom B.", False, True)]
    assert moderation.restrictions(prop, after=rows[0].membership_id) == rows[1:]
    assert moderation.restrictions(prop, limit=1) == rows[:1]

    moderation.unmute_member(ana.id, stay_group.id)
    moderation.restore_member(tom.id, stay_group.id)
    assert moderation.restrictions(prop) == []
