"""Shelf labels: product, price, place and QR code of placements, as HTML or an A4 PDF.

A hotel prints a label for every room an item is shown in, so a sheet can hold
thousands: rows are streamed from the database (``yield_per``) and drawn one
by one, never loaded all at once. The PDF is laid out for common A4 sheets of
3 x 8 labels of 63.5 x 33.9 mm (Avery L7159 and the like).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for
from markupsafe import Markup
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import Select, func, select

from hotel_community import settings
from hotel_community.database import session
from hotel_community.errors import NotFound
from hotel_community.models import Placement, Product, Property
from hotel_community.services import qr
from hotel_community.services.products import format_price

#: The guest product page a placement's QR code opens (views/shop.py).
PLACEMENT_ENDPOINT = "hotel_community.shop.placement"

#: Rows fetched from the database at a time.
BATCH = 500

# Sheet geometry (A4, 3 x 8 labels of 63.5 x 33.9 mm, 2.5 mm between columns).
COLUMNS, ROWS = 3, 8
PER_PAGE = COLUMNS * ROWS
LABEL_W, LABEL_H = 63.5 * mm, 33.9 * mm
GAP_X = 2.5 * mm
MARGIN_LEFT, MARGIN_TOP = 7.2 * mm, 12.9 * mm
PADDING = 1.5 * mm
QR_SIZE = LABEL_H - 2 * PADDING

LATIN_FONT, LATIN_BOLD, CJK_FONT = "Helvetica", "Helvetica-Bold", "STSong-Light"

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class Selection:
    """Which placements to print: one property's active placements, narrowed by product or place."""

    property_id: int
    product_id: int | None = None
    sku: str | None = None
    location_prefix: str | None = None


@dataclass(frozen=True)
class Label:
    placement_id: int
    code: str
    name_en: str
    name_zh: str
    price: str
    location: str
    url: str

    @property
    def qr_svg(self) -> Markup:
        return qr.qr_svg(self.url)


def selection(prop: Property, product_id: int | None = None, sku: str | None = None,
              location_prefix: str | None = None) -> Selection:
    return Selection(prop.id, product_id, sku or None, (location_prefix or "").strip() or None)


#: At most this many products in the staff page's product choice.
MAX_PRODUCTS = 500


def products_to_choose(prop: Property) -> list[tuple[int, str, str]]:
    """``(id, sku, English name)`` of the property's products, for the selection form."""
    rows = session.execute(
        select(Product.id, Product.sku, Product.name_en)
        .where(Product.property_id == prop.id).order_by(Product.sku).limit(MAX_PRODUCTS))
    return [tuple(row) for row in rows]


def get_placement(placement_id: int) -> Placement:
    placement = session.get(Placement, placement_id)
    if placement is None:
        raise NotFound("No such placement.")
    return placement


def _filtered(chosen: Selection, statement: Select) -> Select:
    statement = statement.where(Placement.property_id == chosen.property_id,
                                Placement.active.is_(True))
    if chosen.product_id is not None:
        statement = statement.where(Placement.product_id == chosen.product_id)
    if chosen.sku:
        statement = statement.where(Product.sku == chosen.sku)
    if chosen.location_prefix:
        statement = statement.where(
            Placement.location.startswith(chosen.location_prefix, autoescape=True))
    return statement


def count(chosen: Selection) -> int:
    statement = select(func.count()).select_from(Placement).join(Product)
    return session.scalar(_filtered(chosen, statement)) or 0


def labels(chosen: Selection, base_url: str | None = None,
           limit: int | None = None) -> Iterator[Label]:
    """The selection's labels in print order (place, then product), streamed in batches."""
    statement = _filtered(chosen, select(
        Placement.id, Placement.code, Placement.location, Placement.is_room,
        Product.name_en, Product.name_zh, Product.price, Product.currency,
    ).join(Product)).order_by(Placement.location, Product.sku, Placement.id).limit(limit)
    url_of = url_builder(base_url)
    rows = session.execute(statement.execution_options(yield_per=BATCH))
    for row in rows:
        yield Label(row.id, row.code, row.name_en, row.name_zh,
                    format_price(row.price, row.currency),
                    location_text(row.location, row.is_room), url_of(row.code))


def location_text(location: str, is_room: bool) -> str:
    return f"Room {location}" if is_room else location


def placement_url(placement: Placement, base_url: str | None = None) -> str:
    """The URL a placement's QR code opens: ``<base>/<prefix>/p/<code>``."""
    return url_builder(base_url)(placement.code)


def url_builder(base_url: str | None = None) -> Callable[[str], str]:
    """A function from placement code to URL; built once for a whole sheet.

    With the guest product page registered, the URL comes from its route (as
    ``url_for(..., _external=True)`` would build it); without it, it is the
    configured URL prefix + ``/p/<code>``. The base URL (scheme, host and any
    script root, e.g. ``https://hotel.example/app``) is the argument, else
    the current request's.
    """
    if base_url is None:
        if not has_request_context():
            raise ValueError("A base URL is needed outside a request.")
        if PLACEMENT_ENDPOINT in current_app.view_functions:
            return lambda code: url_for(PLACEMENT_ENDPOINT, code=code, _external=True)
        base_url = request.url_root
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"Not an http(s) base URL: {base_url!r}")
    script_root = parts.path.rstrip("/")
    if PLACEMENT_ENDPOINT in current_app.view_functions:
        adapter = current_app.url_map.bind(parts.netloc, script_name=script_root or "/",
                                           url_scheme=parts.scheme)
        return lambda code: adapter.build(PLACEMENT_ENDPOINT, {"code": code},
                                          force_external=True)
    prefix = current_app.config[settings.PREFIX + "URL_PREFIX"].rstrip("/")
    root = f"{parts.scheme}://{parts.netloc}{script_root}{prefix}/p/"
    return lambda code: root + code


def qr_png(placement: Placement, base_url: str | None = None) -> bytes:
    return qr.qr_png(placement_url(placement, base_url))


def qr_svg(placement: Placement, base_url: str | None = None) -> Markup:
    return qr.qr_svg(placement_url(placement, base_url))


def pages_for(total: int) -> int:
    return max(1, -(-total // PER_PAGE))


def label_pdf(placements: Selection, base_url: str, out: BinaryIO,
              progress: ProgressCallback | None = None) -> int:
    """Write the selection's labels to ``out`` as an A4 PDF; returns the number of pages.

    ``progress(done, total)`` is called after each label (and once at the start).
    """
    _register_cjk_font()
    total = count(placements)
    canvas = Canvas(out, pagesize=A4, pageCompression=1)
    canvas.setTitle("Product labels")
    if progress:
        progress(0, total)
    done = 0
    for label in labels(placements, base_url):
        if done and done % PER_PAGE == 0:
            canvas.showPage()
        _draw_label(canvas, label, done % PER_PAGE)
        done += 1
        if progress:
            progress(done, total)
    canvas.showPage()  # an empty selection still gives a (blank) page
    canvas.save()
    return pages_for(done)


def _register_cjk_font() -> None:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


def _draw_label(canvas: Canvas, label: Label, slot: int) -> None:
    column, row = slot % COLUMNS, slot // COLUMNS
    x = MARGIN_LEFT + column * (LABEL_W + GAP_X)
    y = A4[1] - MARGIN_TOP - (row + 1) * LABEL_H
    _draw_qr(canvas, label.url, x + PADDING, y + PADDING)
    text_x = x + PADDING + QR_SIZE + PADDING
    width = x + LABEL_W - PADDING - text_x
    top = y + LABEL_H - PADDING
    lines: list[tuple[str, str, float]] = [
        *((line, LATIN_BOLD, 8) for line in _fit(label.name_en, LATIN_BOLD, 8, width, 2)),
        *((line, CJK_FONT, 8) for line in _fit(label.name_zh, CJK_FONT, 8, width, 2)),
    ]
    baseline = top
    for text, font, size in lines:
        baseline -= size * 1.2
        canvas.setFont(font, size)
        canvas.drawString(text_x, baseline, text)
    canvas.setFont(LATIN_BOLD, 11)
    canvas.drawString(text_x, y + PADDING + 10, _fit(label.price, LATIN_BOLD, 11, width, 1)[0])
    canvas.setFont(LATIN_FONT, 7.5)
    canvas.drawString(text_x, y + PADDING + 1,
                      _fit(label.location, LATIN_FONT, 7.5, width, 1)[0])


def _draw_qr(canvas: Canvas, url: str, x: float, y: float) -> None:
    """The QR code as one vector path (sharp at any printer resolution), quiet zone included.

    Each run of dark modules in a row is one rectangle: a few hundred path
    operators a code, where a shape per module (reportlab's QrCodeWidget) is
    ten times slower to draw.
    """
    matrix = qr.qr_matrix(url)
    size = len(matrix)
    module = QR_SIZE / size
    path = canvas.beginPath()
    for row_number, row in enumerate(matrix):
        bottom = y + (size - 1 - row_number) * module
        column = 0
        while column < size:
            if not row[column]:
                column += 1
                continue
            start = column
            while column < size and row[column]:
                column += 1
            path.rect(x + start * module, bottom, (column - start) * module, module)
    canvas.drawPath(path, stroke=0, fill=1)


def _fit(text: str, font: str, size: float, width: float, max_lines: int) -> list[str]:
    """``text`` wrapped to ``max_lines`` lines of ``width``; the last one cut with an ellipsis.

    Words are kept whole where there are spaces; Chinese, which has none,
    breaks between characters.
    """
    if not text:
        return []

    def fits(candidate: str) -> bool:
        return pdfmetrics.stringWidth(candidate, font, size) <= width

    lines: list[str] = []
    rest = text.strip()
    while rest and len(lines) < max_lines:
        if fits(rest):
            lines.append(rest)
            rest = ""
            break
        cut = len(rest)
        while cut > 1 and not fits(rest[:cut]):
            cut -= 1
        space = rest.rfind(" ", 0, cut + 1)
        if space > 0 and cut < len(rest):
            cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest and lines:
        last = lines[-1]
        while last and not fits(last + "…"):
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines
