"""The feed's rules: who reads and posts where, what each viewer sees, pages, reactions, staff."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from hotel_community.database import session, transaction, utcnow
from hotel_community.errors import Forbidden, NotFound, ValidationFailed
from hotel_community.models import Block, GroupKind, Member, Post, StayStatus
from hotel_community.services import community, feed, storage
from hotel_community.services.checkin import GuestSnapshot, StaySnapshot, apply_staff_change
from hotel_community.services.properties import create_property, groups_by_kind
from tests.factories import check_in_by_hand


@pytest.fixture
def app_config(tmp_path) -> dict:
    return {"HOTEL_COMMUNITY_FEED_PAGE_SIZE": 5,
            "HOTEL_COMMUNITY_WORD_FILTER": ("spam",),
            "HOTEL_COMMUNITY_UPLOAD_FOLDER": str(tmp_path / "media")}


def guest_at(prop, room: str, first: str, last: str = "Guest", **stay) -> Member:
    return check_in_by_hand(prop, room, (first, last), **stay).guests[0].member


def stay_group(prop) -> int:
    return groups_by_kind(prop)[GroupKind.stay].id


def alumni(prop) -> int:
    return groups_by_kind(prop)[GroupKind.alumni].id


def bodies(posts) -> list[str]:
    return [post.body for post in posts]


def everything(viewer, group_id) -> list[feed.FeedPost]:
    page = feed.feed_page(viewer, group_id)
    return page.pinned + page.posts


def visible(*members: Member) -> None:
    for member in members:
        community.set_visible(member.id, True)


def block(blocker: Member, blocked: Member) -> None:
    with transaction():
        session.add(Block(blocker_id=blocker.id, blocked_id=blocked.id))


def photo_upload(data: bytes | None = None) -> FileStorage:
    if data is None:
        buffer = io.BytesIO()
        Image.new("RGB", (40, 30), (10, 120, 90)).save(buffer, format="PNG")
        data = buffer.getvalue()
    return FileStorage(io.BytesIO(data), filename="photo.png", content_type="image/png")


# --- posting and reading -------------------------------------------------------------------

def test_members_post_and_read_newest_first(app, prop):
    mei, oli = guest_at(prop, "1204", "Mei"), guest_at(prop, "1205", "Oliver")
    feed.create_post(mei, stay_group(prop), "  Hello everyone!  ")
    feed.create_post(oli, stay_group(prop), "Dinner at seven?")

    page = feed.feed_page(mei, stay_group(prop))
    assert bodies(page.posts) == ["Dinner at seven?", "Hello everyone!"]
    assert page.cursor == page.posts[0].id and page.older is None
    assert page.property.code == "TEST" and page.can_post


@pytest.mark.parametrize("body", ["", "   \n ", "x" * (feed.MAX_BODY + 1)])
def test_a_post_needs_1_to_2000_characters(app, prop, body):
    mei = guest_at(prop, "1204", "Mei")
    with pytest.raises(ValidationFailed):
        feed.create_post(mei, stay_group(prop), body)
    assert session.scalar(select(func.count()).select_from(Post)) == 0
    feed.create_post(mei, stay_group(prop), "x" * feed.MAX_BODY + "   ")


def test_a_post_can_carry_a_photo(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    feed.create_post(mei, stay_group(prop), "The view", photo_upload())
    (post,) = feed.feed_page(mei, stay_group(prop)).posts
    assert storage.photo_path(post.photo) is not None


def test_a_refused_post_keeps_no_photo(app, prop, tmp_path):
    mei = guest_at(prop, "1204", "Mei")
    with pytest.raises(ValidationFailed):
        feed.create_post(mei, stay_group(prop), "Cheap spam here", photo_upload())
    with pytest.raises(ValidationFailed):
        feed.create_post(mei, stay_group(prop), "Not a photo", photo_upload(b"<script>"))
    assert list((tmp_path / "media").glob("*")) == []
    assert session.scalar(select(func.count()).select_from(Post)) == 0


def test_the_word_filter_applies_to_posts_and_replies_not_to_staff(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    with pytest.raises(ValidationFailed):
        feed.create_post(mei, stay_group(prop), "Free SPAM for all")
    post = feed.create_post(mei, stay_group(prop), "Spamalot tonight, anyone?")
    with pytest.raises(ValidationFailed):
        feed.reply(mei, stay_group(prop), post.id, "spam!")
    feed.announce("Front Desk", stay_group(prop), "No spam in the lobby, please.")
    assert len(everything(mei, stay_group(prop))) == 2


def test_a_guest_of_another_property_cannot_read_or_post(app, prop):
    other = create_property("OTHER", "Other Hotel", "Europe/Paris", "EUR")
    mei = guest_at(prop, "1204", "Mei")
    post = feed.create_post(mei, stay_group(prop), "Hello")
    paul = guest_at(other, "7", "Paul")
    for group_id in (stay_group(prop), alumni(prop)):
        with pytest.raises(Forbidden):
            feed.feed_page(paul, group_id)
        with pytest.raises(Forbidden):
            feed.new_since(paul, group_id, 0)
        with pytest.raises(Forbidden):
            feed.create_post(paul, group_id, "Let me in")
    with pytest.raises(Forbidden):
        feed.reply(paul, stay_group(prop), post.id, "Hi")
    with pytest.raises(Forbidden):
        feed.react(paul, stay_group(prop), post.id, "like")
    # Their own hotel's group is theirs, and is not this one.
    assert feed.feed_page(paul, stay_group(other)).posts == []


def test_a_guest_of_another_stay_period_cannot_read_the_stay_group(app, prop):
    today = utcnow().date()
    mei = guest_at(prop, "1204", "Mei")
    feed.create_post(mei, stay_group(prop), "Hello")
    earlier = guest_at(prop, "1100", "Earl", status="checked_out",
                       arrival=today - timedelta(days=30), departure=today - timedelta(days=27))
    later = guest_at(prop, "1300", "Lara", status="expected",
                     arrival=today + timedelta(days=30), departure=today + timedelta(days=33))
    for outsider in (earlier, later):
        with pytest.raises(Forbidden):
            feed.feed_page(outsider, stay_group(prop))
        with pytest.raises(Forbidden):
            feed.create_post(outsider, stay_group(prop), "Hi")
    with pytest.raises(Forbidden):
        feed.feed_page(later, alumni(prop))  # not a guest yet: no alumni community either


def stay_of(prop, reservation_id: str, status: StayStatus = StayStatus.in_house):
    """A stay of Mei, known by her e-mail: the same member every time."""
    today = utcnow().date()
    return apply_staff_change(prop, StaySnapshot(
        reservation_id=reservation_id, status=status, room="1204", arrival=today,
        departure=today + timedelta(days=2),
        guests=(GuestSnapshot("Mei", "Chen", email="mei@example.com", primary=True),))).stay


def test_after_check_out_the_alumni_feed_and_back_in_house_the_stay_group(app, prop):
    mei = stay_of(prop, "FIRST").guests[0].member
    feed.create_post(mei, stay_group(prop), "In house")
    stay_of(prop, "FIRST", StayStatus.checked_out)

    with pytest.raises(Forbidden):
        feed.feed_page(mei, stay_group(prop))
    with pytest.raises(Forbidden):
        feed.create_post(mei, stay_group(prop), "Still here?")
    feed.create_post(mei, alumni(prop), "Miss you all")
    assert bodies(feed.feed_page(mei, alumni(prop)).posts) == ["Miss you all"]

    assert stay_of(prop, "NEXT").guests[0].member.id == mei.id
    assert bodies(feed.feed_page(mei, stay_group(prop)).posts) == ["In house"]
    assert bodies(feed.feed_page(mei, alumni(prop)).posts) == ["Miss you all"]


def test_a_removed_member_neither_reads_nor_posts(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    with transaction():
        community.membership_in(mei.id, stay_group(prop)).removed_at = utcnow()
    with pytest.raises(Forbidden):
        feed.feed_page(mei, stay_group(prop))
    with pytest.raises(Forbidden):
        feed.create_post(mei, stay_group(prop), "Hi")


def test_a_muted_member_reads_and_reacts_but_cannot_post_or_reply(app, prop):
    mei, oli = guest_at(prop, "1204", "Mei"), guest_at(prop, "1205", "Oliver")
    post = feed.create_post(oli, stay_group(prop), "Hello")
    with transaction():
        community.membership_in(mei.id, stay_group(prop)).muted_at = utcnow()

    with pytest.raises(Forbidden):
        feed.create_post(mei, stay_group(prop), "Let me speak")
    with pytest.raises(Forbidden):
        feed.reply(mei, stay_group(prop), post.id, "Hi")
    page = feed.feed_page(mei, stay_group(prop))
    assert bodies(page.posts) == ["Hello"] and not page.can_post
    assert feed.react(mei, stay_group(prop), post.id, "wave") is True
    assert not feed.new_since(mei, stay_group(prop), 0).can_post


# --- what each viewer sees -----------------------------------------------------------------

def test_posts_and_replies_of_blocked_members_are_hidden_both_ways(app, prop):
    mei, oli, ana = (guest_at(prop, room, name) for room, name in
                     (("1204", "Mei"), ("1205", "Oliver"), ("1206", "Ana")))
    by_oli = feed.create_post(oli, stay_group(prop), "Oliver's post")
    by_ana = feed.create_post(ana, stay_group(prop), "Ana's post")
    feed.reply(oli, stay_group(prop), by_ana.id, "Oliver's reply")
    feed.reply(mei, stay_group(prop), by_ana.id, "Mei's reply")
    feed.create_post(mei, stay_group(prop), "Mei's post")
    block(mei, oli)  # Mei blocked Oliver: neither sees the other

    for viewer, hidden_name in ((mei, "Oliver"), (oli, "Mei")):
        page = feed.feed_page(viewer, stay_group(prop))
        shown = bodies(page.posts) + [r.body for p in page.posts for r in p.replies]
        assert not [text for text in shown if text.startswith(hidden_name)], shown
        ana_post = next(p for p in page.posts if p.id == by_ana.id)
        assert ana_post.reply_count == 1
        assert bodies(feed.new_since(viewer, stay_group(prop), 0).posts) == bodies(page.posts)
    assert bodies(feed.feed_page(ana, stay_group(prop)).posts) == [
        "Mei's post", "Ana's post", "Oliver's post"]
    # Nor can they answer or react to what they cannot see.
    with pytest.raises(NotFound):
        feed.reply(mei, stay_group(prop), by_oli.id, "Hi")
    with pytest.raises(NotFound):
        feed.react(mei, stay_group(prop), by_oli.id, "like")


def test_hidden_posts_and_replies_are_shown_to_nobody(app, prop):
    mei, oli = guest_at(prop, "1204", "Mei"), guest_at(prop, "1205", "Oliver")
    hidden = feed.create_post(oli, stay_group(prop), "Hidden post")
    shown = feed.create_post(oli, stay_group(prop), "Shown post")
    hidden_reply = feed.reply(mei, stay_group(prop), shown.id, "Hidden reply")
    feed.reply(mei, stay_group(prop), shown.id, "Shown reply")
    with transaction():
        session.get(Post, hidden.id).hidden_at = utcnow()
        session.get(Post, hidden_reply.id).hidden_at = utcnow()

    for viewer in (mei, oli):  # the author too
        (post,) = feed.feed_page(viewer, stay_group(prop)).posts
        assert post.body == "Shown post"
        assert [r.body for r in post.replies] == ["Shown reply"] and post.reply_count == 1
        assert bodies(feed.new_since(viewer, stay_group(prop), 0).posts) == ["Shown post"]
    with pytest.raises(NotFound):
        feed.reply(mei, stay_group(prop), hidden.id, "Hi")
    with pytest.raises(NotFound):
        feed.react(mei, stay_group(prop), hidden.id, "like")


def test_authors_are_shown_as_they_chose(app, prop):
    app.config["HOTEL_COMMUNITY_FEED_PAGE_SIZE"] = 10
    mei = guest_at(prop, "1204", "Mei", "Chen")
    vera = guest_at(prop, "1205", "Vera", "Visible")
    hugo = guest_at(prop, "1206", "Hugo", "Hidden")
    gone = guest_at(prop, "1207", "Gina", "Gone")
    nulled = guest_at(prop, "1208", "Nora", "Nulled")
    visible(vera, gone, nulled)
    for author in (mei, vera, hugo, gone, nulled):
        feed.create_post(author, stay_group(prop), f"by {author.first_name}")
    feed.announce("Front Desk", stay_group(prop), "Mixer at 7")
    with transaction():
        session.get(Member, gone.id).deleted_at = utcnow()
        for post in session.scalars(select(Post).where(Post.author_id == nulled.id)):
            post.author_id = None  # an account deleted by anonymizing its posts

    authors = {post.body: post.author for post in feed.feed_page(mei, stay_group(prop)).posts}
    assert authors["by Mei"] == feed.Author("you", "Mei C.")
    assert authors["by Vera"] == feed.Author("member", "Vera V.")
    assert authors["by Hugo"] == feed.Author("guest")  # not visible: no name at all
    assert authors["by Gina"] == feed.Author("former")
    assert authors["by Nora"] == feed.Author("former")
    assert authors["Mixer at 7"] == feed.Author("staff", "Front Desk")


# --- replies and reactions -----------------------------------------------------------------

def test_the_latest_replies_and_the_count(app, prop):
    mei, oli = guest_at(prop, "1204", "Mei"), guest_at(prop, "1205", "Oliver")
    post = feed.create_post(mei, stay_group(prop), "Where to eat?")
    quiet = feed.create_post(mei, stay_group(prop), "Nobody answers this")
    for n in range(5):
        feed.reply(oli if n % 2 else mei, stay_group(prop), post.id, f"reply {n}")

    page = feed.feed_page(mei, stay_group(prop))
    shown = {p.id: p for p in page.posts}
    assert shown[post.id].reply_count == 5
    assert [r.body for r in shown[post.id].replies] == ["reply 2", "reply 3", "reply 4"]
    assert shown[quiet.id].reply_count == 0 and shown[quiet.id].replies == []
    assert bodies(page.posts) == ["Nobody answers this", "Where to eat?"]  # replies are not posts


def test_replies_only_to_top_level_posts_of_that_group(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    post = feed.create_post(mei, stay_group(prop), "Hello")
    answer = feed.reply(mei, stay_group(prop), post.id, "Hi")
    with pytest.raises(NotFound):
        feed.reply(mei, stay_group(prop), answer.id, "Deeper")
    with pytest.raises(NotFound):
        feed.reply(mei, stay_group(prop), 999_999, "Nothing")


def test_a_reaction_toggles_and_is_counted(app, prop):
    mei, oli = guest_at(prop, "1204", "Mei"), guest_at(prop, "1205", "Oliver")
    post = feed.create_post(mei, stay_group(prop), "Sunset from the roof")
    assert feed.react(mei, stay_group(prop), post.id, "heart") is True
    assert feed.react(oli, stay_group(prop), post.id, "heart") is True
    assert feed.react(oli, stay_group(prop), post.id, "wave") is True
    assert feed.react(oli, stay_group(prop), post.id, "wave") is False  # taken back

    (seen_by_mei,) = feed.feed_page(mei, stay_group(prop)).posts
    assert seen_by_mei.reactions == {"heart": 2} and seen_by_mei.mine == {"heart"}
    assert feed.feed_page(oli, stay_group(prop)).posts[0].mine == {"heart"}
    with pytest.raises(ValidationFailed):
        feed.react(mei, stay_group(prop), post.id, "<script>")


def test_reactions_are_for_posts_in_the_group_named(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    post = feed.create_post(mei, stay_group(prop), "Hello")
    answer = feed.reply(mei, stay_group(prop), post.id, "Hi")
    with pytest.raises(NotFound):
        feed.react(mei, stay_group(prop), answer.id, "like")
    elsewhere = feed.announce("Desk", alumni(prop), "Alumni news")
    with pytest.raises(NotFound):  # a group she is in, but the post is not in it
        feed.react(mei, stay_group(prop), elsewhere.id, "like")
    with pytest.raises(Forbidden):  # the post's group, which she is not in
        feed.react(mei, alumni(prop), elsewhere.id, "like")


# --- staff announcements -------------------------------------------------------------------

def test_pinned_announcements_head_the_first_page_only(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    mixer = feed.announce("Front Desk", stay_group(prop), "Mixer tonight at 7", pinned=True)
    for n in range(7):
        feed.create_post(mei, stay_group(prop), f"post {n}")
    notice = feed.announce("Front Desk", stay_group(prop), "Pool closed today")

    first = feed.feed_page(mei, stay_group(prop))
    assert bodies(first.pinned) == ["Mixer tonight at 7"] and first.pinned[0].pinned
    assert bodies(first.posts) == ["Pool closed today", "post 6", "post 5", "post 4", "post 3"]
    assert first.posts[0].is_announcement and first.posts[0].author.kind == "staff"
    second = feed.feed_page(mei, stay_group(prop), first.older)
    assert second.pinned == [] and bodies(second.posts) == ["post 2", "post 1", "post 0"]

    feed.set_pinned(mixer.id, False)
    feed.set_pinned(notice.id, True)
    first = feed.feed_page(mei, stay_group(prop))
    assert bodies(first.pinned) == ["Pool closed today"]
    last = feed.feed_page(mei, stay_group(prop), feed.feed_page(mei, stay_group(prop)).older)
    assert bodies(last.posts)[-1] == "Mixer tonight at 7"  # back in its place in time


def test_only_announcements_are_pinned(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    post = feed.create_post(mei, stay_group(prop), "Pin me")
    with pytest.raises(NotFound):
        feed.set_pinned(post.id, True)
    with pytest.raises(NotFound):
        feed.announce("Desk", 999_999, "Nowhere")


def test_staff_see_the_announcements_of_their_property(app, prop):
    other = create_property("OTHER", "Other Hotel", "Europe/Paris", "EUR")
    mei = guest_at(prop, "1204", "Mei")
    feed.create_post(mei, stay_group(prop), "A guest's post")
    feed.announce("Desk", stay_group(prop), "Stay group news")
    feed.announce("Desk", alumni(prop), "Alumni news", pinned=True)
    feed.announce("Desk", stay_group(other), "Elsewhere")
    assert bodies(feed.announcements(prop)) == ["Alumni news", "Stay group news"]


# --- pages and live updates ----------------------------------------------------------------

def test_keyset_pages_neither_repeat_nor_skip_while_posts_arrive(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    created = [feed.create_post(mei, stay_group(prop), f"post {n}").id for n in range(23)]
    seen, before, pages = [], None, 0
    while True:
        page = feed.feed_page(mei, stay_group(prop), before)
        seen += [post.id for post in page.posts]
        feed.create_post(mei, stay_group(prop), f"arrived during page {pages}")  # not on older pages
        pages += 1
        if page.older is None:
            break
        before = page.older
    assert seen == sorted(created, reverse=True)
    assert pages == 5  # 5 + 5 + 5 + 5 + 3


def test_new_since_gives_what_came_after_the_cursor_in_batches(app, prop):
    mei, oli = guest_at(prop, "1204", "Mei"), guest_at(prop, "1205", "Oliver")
    feed.create_post(mei, stay_group(prop), "old")
    cursor = feed.feed_page(oli, stay_group(prop)).cursor
    update = feed.new_since(oli, stay_group(prop), cursor)
    assert update.posts == [] and update.cursor == cursor

    for n in range(8):
        feed.create_post(mei, stay_group(prop), f"new {n}")
    update = feed.new_since(oli, stay_group(prop), cursor)
    assert bodies(update.posts) == ["new 4", "new 3", "new 2", "new 1", "new 0"]
    update = feed.new_since(oli, stay_group(prop), update.cursor)
    assert bodies(update.posts) == ["new 7", "new 6", "new 5"]
    assert feed.new_since(oli, stay_group(prop), update.cursor).posts == []


def test_the_stay_group_feed_is_the_feed_of_the_guests_staying_now(app, prop):
    """Stay group posts of another stay period are not read; the alumni community keeps its history."""
    from hotel_community.services import staff_desk

    ada_stay = check_in_by_hand(prop, "1201", ("Ada", "Guest"))
    ada = ada_stay.guests[0].member
    old = feed.create_post(ada, stay_group(prop), "Who is up for the night market?")
    recent = feed.create_post(ada, stay_group(prop), "Breakfast tip: the dumplings")
    with transaction():  # Ada has been here four days
        session.get(Post, old.id).created_at = utcnow() - timedelta(days=3)
        session.get(Post, recent.id).created_at = utcnow() - timedelta(hours=5)
        community.membership_in(ada.id, stay_group(prop)).joined_at = utcnow() - timedelta(days=4)

    ben_stay = check_in_by_hand(prop, "1202", ("Ben", "Guest"))
    ben = ben_stay.guests[0].member
    assert bodies(everything(ben, stay_group(prop))) == ["Breakfast tip: the dumplings"]
    assert bodies(everything(ada, stay_group(prop))) == [
        "Breakfast tip: the dumplings", "Who is up for the night market?"]
    feed.create_post(ada, stay_group(prop), "Mixer at 7!")
    assert bodies(feed.new_since(ben, stay_group(prop), 0).posts) == [
        "Mixer at 7!", "Breakfast tip: the dumplings"]

    staff_desk.check_out(ada_stay)
    memory = feed.create_post(ada, alumni(prop), "Miss this place!")
    with transaction():
        session.get(Post, memory.id).created_at = utcnow() - timedelta(days=30)
    staff_desk.check_out(ben_stay)
    assert bodies(everything(ben, alumni(prop))) == ["Miss this place!"]


def test_posts_of_another_stay_period_cannot_be_answered_reacted_to_or_reported(app, prop):
    from hotel_community.services import moderation

    ada = guest_at(prop, "1201", "Ada")
    old = feed.create_post(ada, stay_group(prop), "Last month's news")
    with transaction():
        session.get(Post, old.id).created_at = utcnow() - timedelta(days=30)
    ben = guest_at(prop, "1202", "Ben")
    with pytest.raises(NotFound):
        feed.reply(ben, stay_group(prop), old.id, "I see you")
    with pytest.raises(NotFound):
        feed.react(ben, stay_group(prop), old.id, "like")
    with pytest.raises(NotFound):
        moderation.reportable_post(ben, old.id)
    assert session.scalar(select(func.count()).select_from(Post).where(Post.parent_id == old.id)) == 0
