"""Label PDF benchmark: the time to draw 1,000 shelf labels (A4, 3 x 8 a page).

Run it with::

    .venv/bin/python bench/labels.py                  # 1,000 labels on SQLite in a temp dir
    .venv/bin/python bench/labels.py --labels 5000

It migrates a fresh SQLite database in a temporary directory (removed at the
end), inserts one property, two products and ``--labels`` room placements, and
times ``services.labels.label_pdf`` (streamed rows, vector QR codes, the CJK
font for the Chinese names) writing to a file. It prints the seconds, the
pages and the PDF's size, and exits non-zero when the page count is wrong.
"""
from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from pathlib import Path

from flask import Flask
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hotel_community import HotelCommunity, migrations
from hotel_community.database import session, transaction
from hotel_community.models import Placement, Product
from hotel_community.services import labels
from hotel_community.services.properties import create_property


def make_app(url: str) -> Flask:
    app = Flask("bench_labels")
    app.config.update(SECRET_KEY="bench", HOTEL_COMMUNITY_SECRET_KEY="bench",
                      SQLALCHEMY_DATABASE_URI=url)
    db = SQLAlchemy()
    db.init_app(app)
    HotelCommunity(app, db=db)
    return app


def seed(count: int) -> labels.Selection:
    prop = create_property("BENCH", "Bench Hotel", "Asia/Shanghai", "CNY")
    with transaction():
        products = [Product(property_id=prop.id, sku=sku, name_en=en, name_zh=zh, price=price,
                            currency="CNY", stock=100)
                    for sku, en, zh, price in (
                        ("PILLOW", "Mulberry silk pillow", "桑蚕丝枕头", 12800),
                        ("ROBE", "Waffle cotton bathrobe with embroidered crest", "华夫格纯棉浴袍", 45000))]
        session.add_all(products)
        session.flush()
        session.execute(insert(Placement), [
            {"code": secrets.token_urlsafe(8)[:10], "property_id": prop.id,
             "product_id": products[number % 2].id, "location": str(1000 + number // 2),
             "is_room": True, "active": True}
            for number in range(count)])
    return labels.selection(prop)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labels", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hc_bench_labels_") as folder:
        app = make_app(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        with app.app_context():
            migrations.upgrade()
            chosen = seed(args.labels)
            out = Path(folder) / "labels.pdf"
            started = time.perf_counter()
            with out.open("wb") as file:
                pages = labels.label_pdf(chosen, "http://127.0.0.1:5000", file)
            seconds = time.perf_counter() - started
            size = out.stat().st_size
            app.extensions["sqlalchemy"].engine.dispose()
    expected = labels.pages_for(args.labels)
    print(f"{args.labels} labels: {seconds:.2f} s, {pages} pages, {size / 1e6:.1f} MB "
          f"({args.labels / seconds:.0f} labels/s)")
    if pages != expected:
        print(f"expected {expected} pages", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
