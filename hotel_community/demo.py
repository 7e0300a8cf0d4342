"""A small hotel website with hotel-community dropped in: ``make demo``.

It stands for the hotel's existing web system. Run any CLI command against
it with ``flask --app hotel_community.demo community ...``; configure it with
``FLASK_*`` environment variables, e.g. ``FLASK_SQLALCHEMY_DATABASE_URI``.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import Flask, current_app, render_template_string, url_for
from flask.cli import with_appcontext
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import select

from hotel_community import HotelCommunity, migrations
from hotel_community.database import session
from hotel_community.models import GroupKind, Placement, Product, Property, StaffUser, StayStatus
from hotel_community.services import access, checkin, events, products, properties, qr, staff
from hotel_community.services.feed import announce
from hotel_community.services.profiles import update_profile
from hotel_community.services.properties import groups_by_kind
from hotel_community.services.checkin import GuestSnapshot, StaySnapshot

PROPERTY_CODE = "DEMO"
STAFF_USERNAME, STAFF_PASSWORD = "frontdesk", "demo-password"
#: room, first name, last name, PMS language, and what the guest put on their profile.
DEMO_GUESTS = [
    ("1204", "Mei", "Chen", "zh", "Shanghai", ["zh", "en"], ["Tea", "Hiking"]),
    ("1205", "Oliver", "Smith", "en", "London", ["en"], ["Hiking", "Jazz"]),
    ("1206", "Sofia", "Rossi", "en", "Milan", ["it", "en"], ["Tea", "Design"]),
    ("1207", "Hiroshi", "Tanaka", "en", "Osaka", ["ja", "en"], ["Photography", "Tea"]),
    ("1208", "Li", "Wang", "zh", "Shanghai", ["zh"], ["Hiking", "Food"]),
    ("1209", "Amara", "Okafor", "en", "Lagos", ["en", "fr"], ["Jazz", "Food"]),
]
#: What the rooms show and sell: SKU, English and Chinese names, price, stock.
DEMO_PRODUCTS = [
    ("PILLOW-SILK", "Silk pillow", "真丝枕头", "Mulberry silk, the one you slept on.", "389.00", 12),
    ("PJ-COTTON", "Cotton pyjamas", "纯棉睡衣", "Soft, breathable, in the hotel's blue.", "268.00", 8),
    ("CUP-CELADON", "Celadon teacup", "青瓷茶杯", "Hand-thrown in Longquan.", "88.00", 1),
]

HOME = """<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Harbour Hotel</title>
<h1>Harbour Hotel</h1><p>The hotel's own website. The community lives at
<a href="{{ url_for('hotel_community.guest.home') }}">{{ url_for('hotel_community.guest.home') }}</a>;
front desk: <a href="{{ url_for('hotel_community.staff.in_house') }}">staff pages</a>.</p>"""

db = SQLAlchemy()
community = HotelCommunity(db=db)


def create_app() -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(
        SECRET_KEY="demo-only-flask-secret",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(app.instance_path) / 'demo.sqlite3'}",
        HOTEL_COMMUNITY_SECRET_KEY="demo-only-community-secret",
    )
    app.config.from_prefixed_env()
    db.init_app(app)
    community.init_app(app)
    app.add_url_rule("/", "home", lambda: render_template_string(HOME))
    app.cli.add_command(demo_cli)
    return app


@click.command("demo-init")
@with_appcontext
@click.option("--base-url", default="http://127.0.0.1:5000", show_default=True)
def demo_cli(base_url: str) -> None:
    """Migrate, seed the demo hotel (once), and print how to get in."""
    migrations.upgrade()
    prop = session.scalar(select(Property).where(Property.code == PROPERTY_CODE)) or _seed()
    with current_app.test_request_context(base_url=base_url):
        stay = checkin.find_stay(prop, "DEMO-1204")
        link = access.access_url(stay.guests[0].member, stay)
        staff_url = url_for("hotel_community.staff.login", _external=True)
        pillow = session.scalar(select(Placement.code).join(Placement.product).where(
            Product.sku == DEMO_PRODUCTS[0][0], Placement.location == stay.room))
        shop_url = url_for("hotel_community.shop.placement", code=pillow, _external=True)
    click.echo(f"\nStaff sign-in: {staff_url}\n  username {STAFF_USERNAME}  password {STAFF_PASSWORD}")
    click.echo(f"\nGuest link for {stay.guests[0].member.full_name}, room {stay.room}:\n  {link}\n")
    click.echo(qr.qr_terminal(link))
    click.echo(f"The silk pillow's QR code in room {stay.room} opens:\n  {shop_url}\n")


def _seed() -> Property:
    prop = properties.create_property(PROPERTY_CODE, "Harbour Hotel", "Asia/Shanghai", "CNY")
    if session.scalar(select(StaffUser).where(StaffUser.username == STAFF_USERNAME)) is None:
        staff.create_staff(STAFF_USERNAME, STAFF_PASSWORD, "Front Desk")
    today = access.today_at(prop)
    for room, first, last, language, city, languages, interests in DEMO_GUESTS:
        snapshot = StaySnapshot(
            reservation_id=f"DEMO-{room}", status=StayStatus.in_house, room=room,
            arrival=today - timedelta(days=1), departure=today + timedelta(days=2),
            guests=(GuestSnapshot(first, last, pms_guest_id=f"G-{room}", language=language,
                                  primary=True),))
        member = checkin.apply_staff_change(prop, snapshot).stay.guests[0].member
        # The others opted in to be seen; the guest of the printed link decides for herself.
        update_profile(member, home_city=city, languages=languages, interests=interests,
                       contact=("email", f"{first.lower()}@example.com"),
                       visible=room != DEMO_GUESTS[0][0])
    announce("Front Desk", groups_by_kind(prop)[GroupKind.stay].id,
             "Welcome drinks tonight at 7 in the lobby bar: come and meet the other guests!",
             pinned=True)
    _seed_shop(prop)
    _seed_events(prop, today)
    return prop


def _seed_events(prop: Property, today) -> None:
    """The nightly mixer for the coming week, and a paid tea tasting with a +1."""
    from datetime import datetime, time

    evening = datetime.combine(today, time(19, 0))
    events.create_event(prop, events.EventFields(
        title_en="Nightly mixer", title_zh="晚间交友会", place="Lobby bar", capacity=30,
        description_en="Meet the other guests over a drink.", description_zh="边喝边认识其他客人。",
        starts_local=evening, repeat_daily_until=today + timedelta(days=6)), "Front Desk")
    events.create_event(prop, events.EventFields(
        title_en="Longjing tea tasting", title_zh="龙井品茶会", place="Jade Lounge", capacity=8,
        plus_ones=True, price=8800, starts_local=evening + timedelta(days=1, hours=-3)),
        "Front Desk", announce=False)


def _seed_shop(prop: Property) -> None:
    """The showroom: every demo room shows every product, and the lobby shows the teacup."""
    rooms = ", ".join(room for room, *_ in DEMO_GUESTS)
    for sku, name_en, name_zh, description, price, stock in DEMO_PRODUCTS:
        product = products.create_product(prop, products.ProductFields(
            sku=sku, name_en=name_en, name_zh=name_zh, description_en=description,
            price=price, stock=stock))
        products.create_room_placements(product.id, rooms)
    products.create_placement(product.id, "Lobby", is_room=False)


app = create_app()
