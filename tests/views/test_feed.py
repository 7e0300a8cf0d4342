"""The feed pages: reading, posting, replies, reactions, live updates, staff announcements."""
from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from hotel_community.database import session, transaction, utcnow
from hotel_community.models import Block, GroupKind, Member, Post, Profile, Reaction
from hotel_community.services import community, feed, staff_desk
from hotel_community.services.properties import create_property, groups_by_kind
from hotel_community.services.staff import create_staff
from tests.factories import signed_in, check_in_by_hand, csrf_token

FEED = "/community/groups"


def text(response) -> str:
    return response.get_data(as_text=True)


def guest_at(prop, room: str, first: str, last: str = "Guest", **stay) -> Member:
    return check_in_by_hand(prop, room, (first, last), **stay).guests[0].member






def stay_group(prop) -> int:
    return groups_by_kind(prop)[GroupKind.stay].id


def alumni(prop) -> int:
    return groups_by_kind(prop)[GroupKind.alumni].id


def write(client, group_id: int, body: str, **files):
    token = csrf_token(client.get("/community/group"))  # the session's token, whatever the page
    return client.post(f"{FEED}/{group_id}/posts", data={"csrf_token": token, "body": body, **files},
                       content_type="multipart/form-data")


def updates(client, group_id: int, after: int = 0):
    return client.get(f"{FEED}/{group_id}/updates?after={after}")


def post_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-post-id="(\d+)"', html)]


def cursor_of(html: str) -> int:
    return int(re.search(r'data-cursor="(\d+)"', html).group(1))


# --- reading and posting -------------------------------------------------------------------

def test_a_member_posts_and_reads_the_stay_group_feed(app, prop):
    mei = guest_at(prop, "1204", "Mei", "Chen")
    client = signed_in(app, mei)
    html = text(client.get("/community/group"))
    assert f'href="{FEED}/{stay_group(prop)}/"' in html  # the stay group page links to its feed

    response = write(client, stay_group(prop), "Hello from room 1204!")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{FEED}/{stay_group(prop)}/")
    html = text(client.get(f"{FEED}/{stay_group(prop)}/"))
    assert "Staying at Test Hotel now" in html
    assert "Hello from room 1204!" in html and "Mei C. (you)" in html
    assert 'name="photo"' in html and 'enctype="multipart/form-data"' in html


def test_a_post_with_a_photo(app, prop, tmp_path):
    app.config["HOTEL_COMMUNITY_UPLOAD_FOLDER"] = str(tmp_path)
    client = signed_in(app, guest_at(prop, "1204", "Mei"))
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (200, 100, 0)).save(buffer, format="JPEG")
    buffer.seek(0)
    assert write(client, stay_group(prop), "Breakfast",
                 photo=(buffer, "breakfast.jpg")).status_code == 302
    html = text(client.get(f"{FEED}/{stay_group(prop)}/"))
    (src,) = re.findall(r'<img class="photo" src="([^"]+)"', html)
    assert client.get(src).status_code == 200


def test_script_in_a_post_is_escaped_in_the_page_and_in_the_live_update(app, prop):
    mei, oli = guest_at(prop, "1204", "Mei"), guest_at(prop, "1205", "Oliver")
    community.set_visible(mei.id, True)
    reader = signed_in(app, oli)
    cursor = cursor_of(text(reader.get(f"{FEED}/{stay_group(prop)}/")))
    writer = signed_in(app, mei)
    attack = '<script>alert("pwned")</script><img src=x onerror=alert(1)> javascript:alert(2)'
    write(writer, stay_group(prop), attack)
    feed.reply(oli, stay_group(prop), session.scalar(sa.select(Post.id)), "<script>reply()</script>")

    for html in (text(reader.get(f"{FEED}/{stay_group(prop)}/")),
                 updates(reader, stay_group(prop), cursor).get_json()["html"]):
        assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;reply()&lt;/script&gt;" in html
        assert 'href="javascript' not in html and "javascript:alert(2)" in html


def test_links_in_posts_are_safe(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    client = signed_in(app, mei)
    write(client, stay_group(prop), "Menu: https://example.com/menu and javascript:alert(1)")
    html = text(client.get(f"{FEED}/{stay_group(prop)}/"))
    assert ('<a href="https://example.com/menu" rel="nofollow noopener noreferrer ugc" '
            'target="_blank">https://example.com/menu</a>') in html
    assert 'href="javascript' not in html


def test_a_post_refused_by_the_word_filter_keeps_the_draft(app, prop):
    app.config["HOTEL_COMMUNITY_WORD_FILTER"] = ("casino",)
    client = signed_in(app, guest_at(prop, "1204", "Mei"))
    response = write(client, stay_group(prop), "Visit my CASINO tonight <b>now</b>")
    assert response.status_code == 422
    html = text(response)
    assert "Please leave out “CASINO”" in html
    assert "Visit my CASINO tonight &lt;b&gt;now&lt;/b&gt;</textarea>" in html
    assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0


def test_an_empty_post_is_refused(app, prop):
    client = signed_in(app, guest_at(prop, "1204", "Mei"))
    response = write(client, stay_group(prop), "   ")
    assert response.status_code == 422 and "Please write something first." in text(response)


def test_posting_needs_the_csrf_token(app, prop):
    client = signed_in(app, guest_at(prop, "1204", "Mei"))
    client.get(f"{FEED}/{stay_group(prop)}/")
    response = client.post(f"{FEED}/{stay_group(prop)}/posts", data={"body": "Hi"})
    assert response.status_code == 400
    assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 0


def test_signed_out_visitors_are_sent_to_sign_in(app, client, prop):
    feed.create_post(guest_at(prop, "1204", "Mei"), stay_group(prop), "Secret plans")
    response = client.get(f"{FEED}/{stay_group(prop)}/")
    assert response.status_code == 302 and "/community/login" in response.headers["Location"]
    response = updates(client, stay_group(prop))
    assert response.status_code == 401 and "Secret" not in text(response)
    assert response.get_json()["error"]["code"] == "authentication_failed"


# --- who may read --------------------------------------------------------------------------

def test_a_guest_of_another_property_is_refused(app, prop):
    other = create_property("OTHER", "Other Hotel", "Europe/Paris", "EUR")
    feed.create_post(guest_at(prop, "1204", "Mei"), stay_group(prop), "Hotel secret")
    client = signed_in(app, guest_at(other, "7", "Paul"))
    for group_id in (stay_group(prop), alumni(prop), 999_999):
        response = client.get(f"{FEED}/{group_id}/")
        assert response.status_code == 403
        assert "This group is only for the guests in it." in text(response)
        assert "Hotel secret" not in text(response)
        answer = updates(client, group_id)
        assert answer.status_code == 403 and answer.get_json()["error"]["code"] == "forbidden"
        assert write(client, group_id, "Let me in").status_code == 403
    assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 1


def test_after_check_out_only_the_alumni_feed_then_the_stay_group_again(app, prop):
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    mei = stay.guests[0].member
    client = signed_in(app, mei, stay)
    write(client, stay_group(prop), "In house now")
    staff_desk.check_out(stay)

    response = client.get(f"{FEED}/{stay_group(prop)}/")
    assert response.status_code == 403 and "In house now" not in text(response)
    assert updates(client, stay_group(prop)).status_code == 403
    html = text(client.get("/community/group"))
    assert f'href="{FEED}/{alumni(prop)}/"' in html  # the alumni page links to its feed
    assert write(client, alumni(prop), "Greetings from home").status_code == 302
    assert "Greetings from home" in text(client.get(f"{FEED}/{alumni(prop)}/"))
    assert "Test Hotel community" in text(client.get(f"{FEED}/{alumni(prop)}/"))


def test_a_muted_member_sees_no_composer_and_cannot_post(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    feed.create_post(guest_at(prop, "1205", "Oliver"), stay_group(prop), "Hello")
    with transaction():
        community.membership_in(mei.id, stay_group(prop)).muted_at = utcnow()
    client = signed_in(app, mei)
    html = text(client.get(f"{FEED}/{stay_group(prop)}/"))
    assert "data-muted" in html and 'name="body"' not in html and "Hello" in html
    token = csrf_token(client.get(f"{FEED}/{stay_group(prop)}/"))
    response = client.post(f"{FEED}/{stay_group(prop)}/posts", data={"csrf_token": token, "body": "x"})
    assert response.status_code == 403
    assert "paused your posting" in text(response)


# --- what each viewer sees -----------------------------------------------------------------

def test_blocked_members_posts_are_left_out_of_the_page_and_the_updates(app, prop):
    mei, oli = guest_at(prop, "1204", "Mei", "Chen"), guest_at(prop, "1205", "Oliver", "Olsen")
    community.set_visible(mei.id, True)
    community.set_visible(oli.id, True)
    by_oli = feed.create_post(oli, stay_group(prop), "Oliver writes")
    feed.create_post(mei, stay_group(prop), "Mei writes")
    feed.reply(oli, stay_group(prop), session.scalar(sa.select(Post.id).where(Post.author_id == mei.id)),
               "Oliver answers")
    with transaction():
        session.add(Block(blocker_id=oli.id, blocked_id=mei.id))

    for viewer, other, name in ((mei, "Oliver", "Oliver O."), (oli, "Mei", "Mei C.")):
        client = signed_in(app, viewer)
        for html in (text(client.get(f"{FEED}/{stay_group(prop)}/")),
                     updates(client, stay_group(prop)).get_json()["html"]):
            assert f"{other} writes" not in html and f"{other} answers" not in html
            assert name not in html
    client = signed_in(app, mei)
    token = csrf_token(client.get(f"{FEED}/{stay_group(prop)}/"))
    response = client.post(f"{FEED}/{stay_group(prop)}/posts/{by_oli.id}/react",
                           data={"csrf_token": token, "kind": "like"})
    assert response.status_code == 404


def test_nothing_of_an_invisible_author_is_in_the_page(app, prop):
    hugo = guest_at(prop, "1206", "Hugo", "Hiddenfield")
    feed.create_post(hugo, stay_group(prop), "Anyone for tennis?")
    html = text(signed_in(app, guest_at(prop, "1204", "Mei")).get(f"{FEED}/{stay_group(prop)}/"))
    assert "Anyone for tennis?" in html and "A guest" in html
    assert "Hugo" not in html and "Hiddenfield" not in html and "H." not in html
    assert f"/member/{hugo.id}" not in html
    # Their own page shows it as theirs.
    own = text(signed_in(app, hugo).get(f"{FEED}/{stay_group(prop)}/"))
    assert "Hugo H. (you)" in own and "your posts show as “A guest”" in own


def test_hidden_posts_are_shown_to_nobody(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    post = feed.create_post(mei, stay_group(prop), "Regrettable words")
    with transaction():
        session.get(Post, post.id).hidden_at = utcnow()
    for viewer in (mei, guest_at(prop, "1205", "Oliver")):
        client = signed_in(app, viewer)
        assert "Regrettable" not in text(client.get(f"{FEED}/{stay_group(prop)}/"))
        assert updates(client, stay_group(prop)).get_json()["html"] == ""


# --- replies, reactions, pages, updates ----------------------------------------------------

def test_reply_and_react(app, prop):
    mei, oli = guest_at(prop, "1204", "Mei"), guest_at(prop, "1205", "Oliver")
    post = feed.create_post(mei, stay_group(prop), "Sunset at the roof bar?")
    client = signed_in(app, oli)
    token = csrf_token(client.get(f"{FEED}/{stay_group(prop)}/"))
    base = f"{FEED}/{stay_group(prop)}/posts/{post.id}"
    response = client.post(f"{base}/replies", data={"csrf_token": token, "body": "Count me in"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#post-{post.id}")
    assert client.post(f"{base}/react", data={"csrf_token": token, "kind": "heart"}).status_code == 302

    html = text(client.get(f"{FEED}/{stay_group(prop)}/"))
    assert "Count me in" in html
    assert re.search(r'aria-pressed="true"[^>]*data-reaction="heart">❤️ 1<', html)
    assert client.post(f"{base}/react", data={"csrf_token": token, "kind": "nope"}).status_code == 422
    client.post(f"{base}/react", data={"csrf_token": token, "kind": "heart"})
    assert session.scalar(sa.select(sa.func.count()).select_from(Reaction)) == 0


def test_an_empty_reply_is_refused_with_a_message(app, prop):
    mei = guest_at(prop, "1204", "Mei")
    post = feed.create_post(mei, stay_group(prop), "Hello")
    client = signed_in(app, mei)
    token = csrf_token(client.get(f"{FEED}/{stay_group(prop)}/"))
    response = client.post(f"{FEED}/{stay_group(prop)}/posts/{post.id}/replies",
                           data={"csrf_token": token, "body": " "}, follow_redirects=True)
    assert "Please write something first." in text(response)


def test_load_older_pages_do_not_repeat_or_skip(app, prop):
    app.config["HOTEL_COMMUNITY_FEED_PAGE_SIZE"] = 4
    mei = guest_at(prop, "1204", "Mei")
    created = [feed.create_post(mei, stay_group(prop), f"post {n}").id for n in range(10)]
    client = signed_in(app, mei)
    seen, url = [], f"{FEED}/{stay_group(prop)}/"
    while url:
        html = text(client.get(url))
        seen += post_ids(html)
        older = re.search(r'href="([^"]+)" data-older', html)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == created[::-1]


def test_updates_bring_new_posts_after_the_cursor(app, prop):
    mei, oli = guest_at(prop, "1204", "Mei"), guest_at(prop, "1205", "Oliver")
    feed.create_post(mei, stay_group(prop), "Before")
    client = signed_in(app, oli)
    html = text(client.get(f"{FEED}/{stay_group(prop)}/"))
    cursor = cursor_of(html)
    assert f'data-updates="{FEED}/{stay_group(prop)}/updates"' in html and "data-poll-seconds" in html
    assert updates(client, stay_group(prop), cursor).get_json() == {"html": "", "cursor": cursor}

    new = feed.create_post(mei, stay_group(prop), "After")
    answer = updates(client, stay_group(prop), cursor)
    assert answer.headers["Cache-Control"] == "no-store"
    data = answer.get_json()
    assert data["cursor"] == new.id and post_ids(data["html"]) == [new.id]
    assert "After" in data["html"] and "Before" not in data["html"]
    assert 'name="csrf_token"' in data["html"]  # its reply and reaction forms work


# --- bounded queries -----------------------------------------------------------------------

def seed_posts(group_id: int, members: list[Member], count: int) -> None:
    """``count`` posts by ``members`` (with profiles and photos), each with replies and reactions."""
    with transaction():
        for n in range(count):
            author = members[n % len(members)]
            post = Post(group_id=group_id, author_id=author.id, body=f"post {n}")
            session.add(post)
            session.flush()
            for k in range(4):
                session.add(Post(group_id=group_id, parent_id=post.id, body=f"reply {k}",
                                 author_id=members[(n + k + 1) % len(members)].id))
            for k, kind in enumerate(("like", "heart")):
                session.add(Reaction(post_id=post.id, member_id=members[(n + k) % len(members)].id,
                                     kind=kind))


class Statements:
    def __init__(self, engine) -> None:
        self.engine, self.seen = engine, []
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, *args) -> None:
        self.seen.append(statement)

    def of(self, action) -> int:
        self.seen = []
        action()
        return len(self.seen)

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._count)


def authors(count: int) -> list[Member]:
    """Members with profiles (some with photos), half of them visible."""
    with transaction():
        members = [Member(first_name=f"Guest{n}", last_name="Family", visible=n % 2 == 0)
                   for n in range(count)]
        session.add_all(members)
        session.flush()
        session.add_all(Profile(member_id=member.id, display_name=f"Traveller {member.id}",
                                photo=f"photo{n}.jpg" if n % 3 else None)
                        for n, member in enumerate(members))
    return members


def test_a_feed_page_costs_the_same_statements_with_5_or_200_posts(app, prop):
    viewer = guest_at(prop, "1204", "Mei")
    group_id = stay_group(prop)
    feed.announce("Front Desk", group_id, "Mixer at 7", pinned=True)
    client = signed_in(app, viewer)
    counter = Statements(app.extensions["sqlalchemy"].engine)
    url = f"{FEED}/{group_id}/"
    try:
        def page(url=url):
            def get() -> None:
                session.remove()  # a fresh session, as each request of a real server has
                assert client.get(url).status_code == 200
            return get

        seed_posts(group_id, authors(3), 5)
        client.get(url)
        small = counter.of(page())
        small_update = counter.of(page(f"{FEED}/{group_id}/updates?after=0"))
        seed_posts(group_id, authors(60), 195)  # many more authors on the page
        large = counter.of(page())
        large_update = counter.of(page(f"{FEED}/{group_id}/updates?after=0"))
        html = text(client.get(url))
        older = counter.of(page(re.search(r'href="([^"]+)" data-older', html).group(1)
                                .replace("&amp;", "&")))
    finally:
        counter.close()
    assert len(post_ids(html)) == 21  # a full page and the pinned announcement
    assert small == large, (small, large)
    assert small_update == large_update
    assert older <= large
    assert large <= 10, large


# --- staff ---------------------------------------------------------------------------------

@pytest.fixture
def desk(app, prop):
    create_staff("desk", "correct-horse-battery", "Front Desk")
    client = app.test_client()
    page = client.get("/community/staff/login")
    assert client.post("/community/staff/login", data={
        "csrf_token": csrf_token(page), "username": "desk",
        "password": "correct-horse-battery"}).status_code == 302
    return client


def test_staff_pages_need_staff(app, client, prop):
    response = client.get("/community/staff/feed/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert client.post("/community/staff/feed/announcements/1/pin").status_code in (302, 400)


def test_staff_announce_pin_and_unpin(app, prop, desk):
    mei = guest_at(prop, "1204", "Mei")
    feed.create_post(mei, stay_group(prop), "A guest's post")
    page = desk.get("/community/staff/feed/")
    assert page.status_code == 200 and "Announcements at Test Hotel" in text(page)
    response = desk.post("/community/staff/feed/", data={
        "csrf_token": csrf_token(page), "group": "stay", "body": "Mixer tonight <b>7 pm</b>",
        "pinned": "y"})
    assert response.status_code == 302

    html = text(signed_in(app, mei).get(f"{FEED}/{stay_group(prop)}/"))
    assert "data-feed-pinned" in html and "Mixer tonight &lt;b&gt;7 pm&lt;/b&gt;" in html
    assert "Front Desk" in html

    post_id = session.scalar(sa.select(Post.id).where(Post.staff_author.is_not(None)))
    listing = desk.get("/community/staff/feed/")
    assert f'data-announcement="{post_id}"' in text(listing) and "Unpin" in text(listing)
    assert "A guest&#39;s post" not in text(listing)
    response = desk.post(f"/community/staff/feed/announcements/{post_id}/unpin",
                         data={"csrf_token": csrf_token(listing)})
    assert response.status_code == 302
    assert "data-feed-pinned" not in text(signed_in(app, mei).get(f"{FEED}/{stay_group(prop)}/"))
    assert desk.post(f"/community/staff/feed/announcements/{post_id}/pin",
                     data={}).status_code == 400  # CSRF
    guest_post = session.scalar(sa.select(Post.id).where(Post.author_id == mei.id))
    assert desk.post(f"/community/staff/feed/announcements/{guest_post}/pin",
                     data={"csrf_token": csrf_token(listing)}).status_code == 404


def test_staff_announce_to_the_alumni_community(app, prop, desk):
    page = desk.get("/community/staff/feed/")
    desk.post("/community/staff/feed/", data={"csrf_token": csrf_token(page), "group": "alumni",
                                              "body": "Come back for the summer festival"})
    stay = check_in_by_hand(prop, "1100", ("Ada", "Alumna"), status="checked_out")
    html = text(signed_in(app, stay.guests[0].member, stay).get(f"{FEED}/{alumni(prop)}/"))
    assert "Come back for the summer festival" in html


# --- rate limit ----------------------------------------------------------------------------

class TestPostingRateLimit:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"HOTEL_COMMUNITY_POST_RATE_LIMIT": "3 per minute"}

    def test_per_member_posts_and_replies_together(self, app, prop):
        mei, oli = guest_at(prop, "1204", "Mei"), guest_at(prop, "1205", "Oliver")
        client = signed_in(app, mei)
        assert write(client, stay_group(prop), "one").status_code == 302
        assert write(client, stay_group(prop), "two").status_code == 302
        first = session.scalar(sa.select(Post.id).order_by(Post.id).limit(1))
        token = csrf_token(client.get(f"{FEED}/{stay_group(prop)}/"))
        assert client.post(f"{FEED}/{stay_group(prop)}/posts/{first}/replies",
                           data={"csrf_token": token, "body": "three"}).status_code == 302
        response = write(client, stay_group(prop), "four")
        assert response.status_code == 429
        assert "You are posting very quickly" in text(response)
        assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 3
        # Reading is not limited, and another member posts as usual.
        assert client.get(f"{FEED}/{stay_group(prop)}/").status_code == 200
        assert write(signed_in(app, oli), stay_group(prop), "hello").status_code == 302


class TestPostingRateLimitAcrossWorkers:
    """Two workers (two app instances) count one member's posts together, in Redis."""

    @pytest.fixture
    def app_config(self) -> dict:
        import os
        import uuid

        import redis

        url = os.environ.get("HOTEL_COMMUNITY_TEST_REDIS", "redis://127.0.0.1:6379/15")
        try:
            redis.Redis.from_url(url).ping()
        except redis.ConnectionError as exc:
            pytest.skip(f"Redis not reachable at {url} ({exc}); set HOTEL_COMMUNITY_TEST_REDIS")
        return {"HOTEL_COMMUNITY_RATELIMIT_STORAGE_URI": url,
                "HOTEL_COMMUNITY_POST_RATE_LIMIT": "3 per minute",
                "RATELIMIT_KEY_PREFIX": f"hc-test-{uuid.uuid4().hex}"}

    def test_the_limit_is_shared(self, app, database_url, app_config, prop):
        from tests.conftest import make_app

        mei = guest_at(prop, "1204", "Mei")
        other_worker = make_app(database_url, **app_config)
        on_this, on_that = signed_in(app, mei), signed_in(other_worker, mei)
        assert write(on_this, stay_group(prop), "one").status_code == 302
        assert write(on_that, stay_group(prop), "two").status_code == 302
        assert write(on_this, stay_group(prop), "three").status_code == 302
        assert write(on_that, stay_group(prop), "four").status_code == 429
        assert session.scalar(sa.select(sa.func.count()).select_from(Post)) == 3
        with other_worker.app_context():
            other_worker.extensions["sqlalchemy"].engine.dispose()


def test_ids_and_cursors_out_of_range_are_not_found_or_ignored(app, prop):
    client = signed_in(app, guest_at(prop, "1201", "Ada"))
    group = stay_group(prop)
    assert client.get(f"{FEED}/{group}/?before=3000000000").status_code == 200
    assert client.get(f"{FEED}/{group}/?before=99999999999999999999").status_code == 200
    assert client.get(f"{FEED}/{group}/updates?after=3000000000").status_code == 200
    assert client.get(f"{FEED}/3000000000/").status_code == 404
    assert client.get(f"{FEED}/{group}/posts/99999999999999999999/react").status_code in (404, 405)
