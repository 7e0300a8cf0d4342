"""The baselines for ``bench/checkin.py`` and ``bench/feed.py``: a bare Flask + Flask-SQLAlchemy app.

``POST /events`` takes the same JSON body as hotel-community's
``POST /community/api/v1/pms/events``, does one INSERT of one row into a tiny
table of its own and answers JSON. No signature check, no validation, no
domain logic: the floor that the extension's check-in is compared with.

``GET /feed/<group_id>`` reads the same page of rows as a group's feed page
(the newest top-level posts with their authors and profiles, one SELECT) and
renders them with Jinja's autoescape. No sign-in, no membership check, no
replies, reactions or blocks: the floor of the feed page.

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

    return app


app = create_app()
