"""Labels: placement URLs, QR images a real decoder reads, and the A4 PDF of a selection."""
from __future__ import annotations

import io
import re
import secrets
import shutil
import subprocess
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from hotel_community.database import session, transaction
from hotel_community.models import Placement, Product
from hotel_community.services import labels, products
from hotel_community.services.properties import create_property

PDFTOPPM = shutil.which("pdftoppm")


def make_product(prop, sku: str = "PILLOW", name_en: str = "Silk pillow",
                 name_zh: str = "真丝枕头", price: int = 12800, currency: str = "CNY") -> Product:
    """A product straight through the session (the products service is another area)."""
    with transaction():
        product = Product(property_id=prop.id, sku=sku, name_en=name_en, name_zh=name_zh,
                          price=price, currency=currency, stock=5)
        session.add(product)
    return product


def make_placements(product, *locations: str, is_room: bool = True,
                    active: bool = True) -> list[Placement]:
    with transaction():
        placements = [Placement(code=secrets.token_urlsafe(8)[:10], property_id=product.property_id,
                                product_id=product.id, location=location, is_room=is_room,
                                active=active)
                      for location in locations]
        session.add_all(placements)
    return placements


def rooms(count: int, first: int = 1001) -> list[str]:
    return [str(number) for number in range(first, first + count)]


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


def pdf_pages_as_images(pdf: bytes, tmp_path: Path, dpi: int = 150) -> list[Image.Image]:
    """Render every page with poppler's pdftoppm, as a printer would see it."""
    if PDFTOPPM is None:
        pytest.skip("pdftoppm missing: apt-get install poppler-utils (make chromium does)")
    source = tmp_path / "labels.pdf"
    source.write_bytes(pdf)
    subprocess.run([PDFTOPPM, "-r", str(dpi), "-gray", "-png", str(source),
                    str(tmp_path / "page")], check=True, timeout=120)
    return [Image.open(path) for path in sorted(tmp_path.glob("page-*.png"))]


def pdf_page_count(pdf: bytes) -> int:
    """Page objects in the file (reportlab writes them uncompressed)."""
    return len(re.findall(rb"/Type /Page(?![a-zA-Z])", pdf))


def write_pdf(selection, base_url: str = "http://127.0.0.1:5000", progress=None) -> tuple[bytes, int]:
    out = io.BytesIO()
    pages = labels.label_pdf(selection, base_url, out, progress=progress)
    return out.getvalue(), pages


def test_placement_url_is_the_guest_product_page_under_the_base_url(app, prop):
    placement = make_placements(make_product(prop), "1204")[0]
    assert labels.placement_url(placement, "http://127.0.0.1:5000") == (
        f"http://127.0.0.1:5000/community/p/{placement.code}")
    assert labels.placement_url(placement, "https://hotel.example/app/") == (
        f"https://hotel.example/app/community/p/{placement.code}")
    with app.test_request_context("/", base_url="https://desk.example"):
        assert labels.placement_url(placement) == f"https://desk.example/community/p/{placement.code}"


def test_placement_url_without_the_product_page_is_prefix_p_code(app, prop, monkeypatch):
    """Before views/shop.py existed (or in a host that drops it) the URL is built by hand."""
    placement = make_placements(make_product(prop), "1204")[0]
    with_route = labels.placement_url(placement, "http://127.0.0.1:5000/app")
    monkeypatch.delitem(app.view_functions, labels.PLACEMENT_ENDPOINT, raising=False)
    assert labels.placement_url(placement, "http://127.0.0.1:5000/app") == with_route == (
        f"http://127.0.0.1:5000/app/community/p/{placement.code}")
    monkeypatch.setitem(app.config, "HOTEL_COMMUNITY_URL_PREFIX", "/hotel/")
    assert labels.placement_url(placement, "http://h") == f"http://h/hotel/p/{placement.code}"


@pytest.mark.parametrize("base_url", ["", "ftp://host", "javascript:alert(1)", "/relative"])
def test_placement_url_refuses_a_base_that_is_not_http(app, prop, base_url):
    placement = make_placements(make_product(prop), "1204")[0]
    with pytest.raises(ValueError):
        labels.placement_url(placement, base_url)


def test_qr_png_and_svg_decode_to_the_placement_url(app, prop, tmp_path):
    placement = make_placements(make_product(prop), "1204")[0]
    url = labels.placement_url(placement, "http://127.0.0.1:5000")
    assert decode(Image.open(io.BytesIO(labels.qr_png(placement, "http://127.0.0.1:5000")))) == [url]
    svg = str(labels.qr_svg(placement, "http://127.0.0.1:5000"))
    assert svg.startswith("<svg") and "<script" not in svg


def test_label_text_price_in_the_products_currency_and_place(app, prop):
    pillow = make_product(prop)
    make_placements(pillow, "1204")
    make_placements(make_product(prop, "MUG", "Tea cup", "茶杯", 5000, "USD"), "Lobby",
                    is_room=False)
    made = list(labels.labels(labels.selection(prop), "http://127.0.0.1:5000"))
    assert [(l.name_en, l.name_zh, l.price, l.location) for l in made] == [
        ("Silk pillow", "真丝枕头", "CN¥128.00", "Room 1204"),
        ("Tea cup", "茶杯", "$50.00", "Lobby"),
    ]
    assert products.format_price(1500, "JPY") == "¥1,500"  # no minor unit in yen


def test_selection_by_product_by_place_and_only_this_propertys_active_placements(app, prop):
    pillow, mug = make_product(prop), make_product(prop, "MUG", "Tea cup", "茶杯")
    make_placements(pillow, "1204", "1205", "1301")
    make_placements(mug, "1204")
    make_placements(mug, "Lobby", is_room=False)
    make_placements(pillow, "1206", active=False)
    other = create_property("OTHER", "Other Hotel", "UTC", "USD")
    make_placements(make_product(other), "1204")

    def chosen(**filters) -> list[tuple[str, str]]:
        return [(l.name_en, l.location) for l in
                labels.labels(labels.selection(prop, **filters), "http://h")]

    assert len(chosen()) == 5 and labels.count(labels.selection(prop)) == 5
    assert chosen(sku="MUG") == [("Tea cup", "Room 1204"), ("Tea cup", "Lobby")]
    assert chosen(product_id=pillow.id, location_prefix="12") == [
        ("Silk pillow", "Room 1204"), ("Silk pillow", "Room 1205")]
    assert chosen(location_prefix="13") == [("Silk pillow", "Room 1301")]
    assert chosen(location_prefix="%") == []  # LIKE wildcards are plain text


def test_fit_wraps_words_and_breaks_chinese_and_cuts_with_an_ellipsis():
    assert labels._fit("Silk pillow", "Helvetica", 8, 200, 2) == ["Silk pillow"]
    wrapped = labels._fit("Hand made mulberry silk pillow case with gold thread", "Helvetica", 8, 60, 2)
    assert len(wrapped) == 2 and wrapped[1].endswith("…") and not wrapped[0].endswith(" ")
    labels._register_cjk_font()
    chinese = labels._fit("手工制作的桑蚕丝枕套配金线刺绣图案", "STSong-Light", 8, 50, 2)
    assert len(chinese) == 2 and chinese[1].endswith("…")
    assert labels._fit("", "Helvetica", 8, 60, 2) == []


def test_pdf_has_one_page_per_24_labels_and_reports_progress(app, prop):
    make_placements(make_product(prop), *rooms(49))
    seen: list[tuple[int, int]] = []
    pdf, pages = write_pdf(labels.selection(prop), progress=lambda done, total: seen.append((done, total)))
    assert pdf.startswith(b"%PDF") and pages == 3
    assert pdf_page_count(pdf) == 3
    assert seen[0] == (0, 49) and seen[-1] == (49, 49) and len(seen) == 50
    empty, pages = write_pdf(labels.selection(prop, location_prefix="9"))
    assert pages == pdf_page_count(empty) == 1


def test_pdf_qr_codes_decode_to_the_placement_urls(app, prop, tmp_path):
    product = make_product(prop)
    placements = make_placements(product, *rooms(26)) + make_placements(product, "Lobby", is_room=False)
    pdf, pages = write_pdf(labels.selection(prop))
    images = pdf_pages_as_images(pdf, tmp_path)
    assert len(images) == pages == 2
    found = [url for image in images for url in decode(image)]
    expected = {labels.placement_url(p, "http://127.0.0.1:5000") for p in placements}
    assert sorted(found) == sorted(expected)
    assert len(decode(images[0])) == 24 and len(decode(images[1])) == 3
