"""QR codes: SVG for pages and print, PNG for downloads, text for the terminal."""
from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from markupsafe import Markup


def _code(data: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_svg(data: str) -> Markup:
    """An inline ``<svg>`` element, safe to put in a template."""
    image = _code(data).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return Markup(image.to_string(encoding="unicode"))


def qr_png(data: str, box_size: int = 8) -> bytes:
    code = _code(data)
    code.box_size = box_size
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules, dark = True, row by row from the top, quiet zone included (for PDFs)."""
    return _code(data).get_matrix()


def qr_terminal(data: str) -> str:
    """The code drawn with block characters, for a terminal."""
    buffer = io.StringIO()
    _code(data).print_ascii(out=buffer, invert=True)
    return buffer.getvalue()
