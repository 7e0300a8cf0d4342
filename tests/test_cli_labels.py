"""``flask community labels``: the label PDF of a property's placements, with a progress bar."""
from __future__ import annotations

from tests.services.test_labels import (
    decode,
    make_placements,
    make_product,
    pdf_page_count,
    pdf_pages_as_images,
    rooms,
)
from tests.test_cli import community

BASE = "http://127.0.0.1:5000"


def test_labels_writes_the_pdf_of_the_selection(app, runner, prop, tmp_path):
    pillow = make_product(prop)
    placements = make_placements(pillow, *rooms(60))
    make_placements(make_product(prop, "MUG", "Tea cup", "茶杯"), "Lobby", is_room=False)
    out = tmp_path / "labels.pdf"

    result = community(runner, "labels", "--property", "TEST", "--product", "PILLOW",
                       "--base-url", BASE, "--out", str(out))

    assert f"Wrote 60 labels on 3 pages to {out}." in result.output
    assert "Drawing labels" in result.output  # click's bar (drawn in full on a terminal)
    pdf = out.read_bytes()
    assert pdf_page_count(pdf) == 3
    images = pdf_pages_as_images(pdf, tmp_path)
    found = sorted(url for image in images for url in decode(image))
    assert found == sorted(f"{BASE}/community/p/{p.code}" for p in placements)


def test_labels_by_place_prefix(app, runner, prop, tmp_path):
    make_placements(make_product(prop), *rooms(30, 1101), *rooms(5, 1201))
    out = tmp_path / "floor12.pdf"
    result = community(runner, "labels", "--property", "TEST", "--location", "12",
                       "--base-url", BASE, "--out", str(out))
    assert "Wrote 5 labels on 1 page to" in result.output and pdf_page_count(out.read_bytes()) == 1


def test_labels_refuses_an_unknown_property_or_a_bad_base_url(app, runner, prop, tmp_path):
    out = tmp_path / "x.pdf"
    result = community(runner, "labels", "--property", "NOPE", "--base-url", BASE,
                       "--out", str(out), ok=False)
    assert result.exit_code == 1 and "Traceback" not in result.output and not out.exists()
    result = community(runner, "labels", "--property", "TEST", "--base-url", "hotel.example",
                       "--out", str(out), ok=False)
    assert result.exit_code == 2 and "--base-url" in result.output and not out.exists()
