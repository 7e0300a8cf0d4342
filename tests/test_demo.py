"""The demo hotel: `flask --app hotel_community.demo demo-init`, then a guest's link."""
from __future__ import annotations

import re

import pytest


@pytest.fixture
def demo_app(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    from hotel_community.demo import create_app

    app = create_app()
    yield app
    with app.app_context():
        app.extensions["sqlalchemy"].engine.dispose()


def test_demo_init_seeds_a_hotel_and_prints_the_way_in(demo_app):
    runner = demo_app.test_cli_runner()
    first = runner.invoke(args=["demo-init"])
    assert first.exit_code == 0, first.output
    assert "username frontdesk  password demo-password" in first.output
    assert "█" in first.output  # the link's QR code, drawn in the terminal
    link = re.search(r"http://127\.0\.0\.1:5000(/community/a/\S+)", first.output).group(1)

    again = runner.invoke(args=["demo-init"])  # idempotent: same hotel, same guest
    assert again.exit_code == 0 and link in again.output

    client = demo_app.test_client()
    assert client.get(link).status_code == 302
    # Mei's PMS language is Chinese, and it outranks the browser's.
    page = client.get("/community/group", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "欢迎您，Mei C." in page
    assert "群里共有 6 位客人" in page
    assert "Oliver S." in page and "Amara O." in page

    feed_link = re.search(r'href="([^"]+)" data-feed-link', page).group(1)
    assert "Welcome drinks tonight at 7" in client.get(feed_link).get_data(as_text=True)
    people = client.get("/community/people/").get_data(as_text=True)
    assert "Oliver S." in people and "Hiking" in people  # suggested: they both like hiking

    shop_link = re.search(r"http://127\.0\.0\.1:5000(/community/p/\S+)", first.output).group(1)
    product = client.get(shop_link, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "真丝枕头" in product and "1204" in product  # Mei reads Chinese

    listed = client.get("/community/events", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "晚间交友会" in listed and "龙井品茶会" in listed

    plugins = runner.invoke(args=["community", "plugins"])
    assert "pay_at_desk" in plugins.output
