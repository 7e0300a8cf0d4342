"""The staff label pages: choose placements, print sheet, PDF, QR images; staff only, CSRF."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from hotel_community.services import labels
from hotel_community.services.properties import create_property
from tests.factories import check_in_by_hand, csrf_token
from tests.services.test_labels import (
    decode,
    make_placements,
    make_product,
    pdf_page_count,
    pdf_pages_as_images,
    rooms,
)
from tests.views.test_staff import text

PAGE = "/community/staff/labels/"
SHEET = "/community/staff/labels/sheet"
PDF = "/community/staff/labels/labels.pdf"


@pytest.fixture
def shelf(app, prop):
    pillow = make_product(prop)
    mug = make_product(prop, "MUG", "Tea cup <b>", "茶杯", 5000)
    return {"pillow": make_placements(pillow, *rooms(30, 1201)),
            "mug": make_placements(mug, "1201") + make_placements(mug, "Lobby", is_room=False),
            "pillow_product": pillow, "mug_product": mug}


def url(placement) -> str:
    return f"http://localhost/community/p/{placement.code}"


def test_strangers_and_guests_get_nothing(app, client, prop, shelf):
    placement = shelf["mug"][0]
    paths = [PAGE, SHEET, f"{PAGE}placements/{placement.id}.png",
             f"{PAGE}placements/{placement.id}.svg"]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302 and "/community/staff/login" in response.headers["Location"]
    page = client.get("/community/staff/login")
    response = client.post(PDF, data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.mimetype != "application/pdf"
    from tests.views.test_guest import link_path
    stay = check_in_by_hand(prop, "1204", ("Mei", "Chen"))
    client.get(link_path(stay.guests[0].member, stay))
    assert all(client.get(path).status_code == 302 for path in paths)


def test_the_pdf_needs_the_forms_csrf_token(app, desk, shelf):
    for data in ({}, {"csrf_token": "forged"}):
        response = desk.post(PDF, data=data)
        assert response.status_code == 400 and "CSRF" in text(response)
        assert response.mimetype != "application/pdf"


def test_choose_by_product_and_place_counts_and_previews(app, desk, prop, shelf):
    page = text(desk.get(PAGE))
    assert 'data-total="32"' in page and "2 A4 pages" in page
    assert "Tea cup &lt;b&gt;" in page and "Tea cup <b>" not in page  # escaped
    assert len(re.findall(r'class="label" data-placement=', page)) == 12  # a preview, not 32
    mug = shelf["mug_product"].id
    page = text(desk.get(f"{PAGE}?product={mug}"))
    assert 'data-total="2"' in page
    page = text(desk.get(f"{PAGE}?product={shelf['pillow_product'].id}&location=121"))
    assert 'data-total="10"' in page  # rooms 1210 to 1219
    assert 'data-total="0"' in text(desk.get(f"{PAGE}?location=9"))
    assert 'data-total="32"' in text(desk.get(f"{PAGE}?product=nonsense&product=99999999999"))


def test_another_propertys_placements_are_not_on_this_propertys_sheet(app, desk, prop, shelf):
    other = create_property("OTHER", "Other Hotel", "UTC", "USD")
    make_placements(make_product(other, "OTH", "Other thing"), "1201")
    page = text(desk.get(f"{SHEET}?property=TEST"))
    assert "Other thing" not in page and len(re.findall(r'class="label"', page)) == 32
    page = text(desk.get(f"{SHEET}?property=OTHER"))
    assert "Other thing" in page and len(re.findall(r'class="label"', page)) == 1


def test_print_sheet_is_a4_pages_of_24_with_inline_qr_codes(app, desk, prop, shelf):
    page = text(desk.get(f"{SHEET}?product={shelf['pillow_product'].id}"))
    assert "@page { size: A4" in page
    sheets = re.findall(r'<section class="sheet">(.*?)</section>', page, flags=re.DOTALL)
    assert [len(re.findall(r'class="label"', s)) for s in sheets] == [24, 6]
    assert page.count("<svg") == 30
    urls = re.findall(r'data-url="([^"]+)"', page)
    assert sorted(urls) == sorted(url(p) for p in shelf["pillow"])
    assert "CN¥128.00" in page and "Room 1201" in page and "真丝枕头" in page


def test_pdf_download_of_the_selection(app, desk, prop, shelf, tmp_path):
    token = csrf_token(desk.get(PAGE))
    response = desk.post(PDF, data={"csrf_token": token, "product": shelf["mug_product"].id})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert 'attachment; filename="labels-TEST.pdf"' == response.headers["Content-Disposition"]
    assert pdf_page_count(response.data) == 1
    [image] = pdf_pages_as_images(response.data, tmp_path)
    assert sorted(decode(image)) == sorted(url(p) for p in shelf["mug"])
    everything = desk.post(PDF, data={"csrf_token": token})
    assert pdf_page_count(everything.data) == 2


def test_qr_png_and_svg_of_a_placement_decode_to_its_url(app, desk, shelf):
    placement = shelf["mug"][1]
    png = desk.get(f"{PAGE}placements/{placement.id}.png")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert decode(Image.open(io.BytesIO(png.data))) == [url(placement)]
    svg = desk.get(f"{PAGE}placements/{placement.id}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert b"<svg" in svg.data and labels.placement_url(placement, "http://localhost/") == url(placement)
    assert desk.get(f"{PAGE}placements/99999.png").status_code == 404
    assert desk.get(f"{PAGE}placements/99999999999.svg").status_code == 404
