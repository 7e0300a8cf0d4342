"""The baselines for ``bench/checkin.py``, ``bench/feed.py`` and ``bench/qr_page.py``: a bare
Flask + Flask-SQLAlchemy app.

``POST /events`` takes the same JSON body as hotel-community's
``POST /community/api/v1/pms/events``, does one INSERT of one row into a tiny
table of its own and answers JSON. No signature check, no validation, no
domain logic: the floor that the extension's check-in is compared with.

``GET /feed/<group_id>`` reads the same page of rows as a group's feed page
(the newest top-level posts with their authors and profiles, one SELECT) and
renders them with Jinja's autoescape. No sign-in, no membership check, no
replies, reactions or blocks: the floor of the feed page.

``GET /p/<code>`` reads the same rows as a placement's product page (the
placement by its code joined to its product and property, then the product's
photos: two SELECTs) and renders them. No language, price formatting, stock
wording, delivery choices or session: the floor of the page a QR code opens.

Configured like the demo app, from ``FLASK_*`` environment variables
(``FLASK_SQLALCHEMY_DATABASE_URI``). Served by the benchmark as
``gunicorn --pythonpath bench bare_app:app``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask, jsonify, render_template_string, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, String, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


FEED_PAGE = text("""
    SELECT p.id, p.body, p.photo, p.created_at, m.first_name, m.last_name, pr.display_name,
           pr.photo AS author_photo
    FROM hc_post p
    LEFT JOIN hc_member m ON m.id = p.author_id
    LEFT JOIN hc_profile pr ON pr.member_id = m.id
    WHERE p.group_id = :group_id AND p.parent_id IS NULL AND p.hidden_at IS NULL
      AND NOT p.pinned AND p.id < :before
    ORDER BY p.id DESC LIMIT 20""")
FEED_HTML = """<!doctype html><title>Feed</title><ol>{% for row in rows %}
<li id="post-{{ row.id }}"><strong>{{ row.display_name or row.first_name }}</strong>
<time>{{ row.created_at }}</time><p>{{ row.body }}</p></li>{% endfor %}</ol>"""

PLACEMENT = text("""
    SELECT pl.code, pl.location, pl.is_room, p.id AS product_id, p.name_en, p.description_en,
           p.price, p.currency, p.stock, pr.name AS property_name
    FROM hc_placement pl
    JOIN hc_product p ON p.id = pl.product_id AND p.property_id = pl.property_id
    JOIN hc_property pr ON pr.id = pl.property_id
    WHERE pl.code = :code AND pl.active AND p.active""")
PHOTOS = text("SELECT photo FROM hc_product_photo WHERE product_id = :id ORDER BY position, id")
PLACEMENT_HTML = """<!doctype html><title>{{ row.name_en }}</title><header>{{ row.property_name }}</header>
{% for photo in photos %}<img src="/media/{{ photo }}" alt="">{% endfor %}
<h1>{{ row.name_en }}</h1><p>{{ row.currency }} {{ "%.2f"|format(row.price / 100) }}</p>
<p>{{ row.location }}</p><p>{{ row.stock }} in stock</p><p>{{ row.description_en }}</p>"""


class BareEvent(Base):
    __tablename__ = "bench_bare_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200))
    reservation_id: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(DateTime)


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
    app.config.from_prefixed_env()
    db.init_app(app)

    @app.get("/health")
    def health():
        return jsonify({"ok": True})

    @app.post("/events")
    def events():
        payload = request.get_json()
        row = BareEvent(event_id=payload["id"], reservation_id=payload["stay"]["reservation_id"],
                        received_at=datetime.now(timezone.utc).replace(tzinfo=None))
        db.session.add(row)
        db.session.commit()  # one INSERT; nothing read back (expire_on_commit)
        return jsonify({"event": payload["id"], "result": "applied"})

    @app.get("/feed/<int:group_id>")
    def feed(group_id: int):
        before = request.args.get("before", 2**31 - 1, type=int)
        rows = db.session.execute(FEED_PAGE, {"group_id": group_id, "before": before}).all()
        return render_template_string(FEED_HTML, rows=rows)

    @app.get("/p/<code>")
    def placement(code: str):
        row = db.session.execute(PLACEMENT, {"code": code}).one_or_none()
        if row is None:
            return "Not found", 404
        photos = db.session.execute(PHOTOS, {"id": row.product_id}).scalars().all()
        return render_template_string(PLACEMENT_HTML, row=row, photos=photos)

    return app


app = create_app()
