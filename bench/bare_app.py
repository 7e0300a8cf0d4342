"""The baseline for ``bench/checkin.py``: a bare Flask + Flask-SQLAlchemy app.

One route, ``POST /events``, takes the same JSON body as hotel-community's
``POST /community/api/v1/pms/events``, does one INSERT of one row into a tiny
table of its own and answers JSON. No signature check, no validation, no
domain logic: the floor that the extension's check-in is compared with.

Configured like the demo app, from ``FLASK_*`` environment variables
(``FLASK_SQLALCHEMY_DATABASE_URI``). Served by the benchmark as
``gunicorn --pythonpath bench bare_app:app``.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


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

    return app


app = create_app()
