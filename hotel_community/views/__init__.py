"""Blueprints: guest pages, staff pages and the PMS API. Thin: parse, call a service, answer."""
from __future__ import annotations

from urllib.parse import urlsplit

from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter

#: Ids are 32-bit integers in the database: a larger number names nothing.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<hc_id:post_id>``: a database id, 1 to 2**31 - 1; a larger number is a 404."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None: no open redirects.

    Browsers read ``//host`` and ``/\\host`` as another site, and drop tabs and
    newlines before they look: ``/\t/host`` too. So no control character, no
    space, no backslash, and nothing that parses with a scheme or a host.
    """
    if not target or any(ord(char) <= 0x20 or char in "\\\x7f" for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def id_arg(values: MultiDict, name: str) -> int | None:
    """An id from a query string or form, or None when missing, malformed or out of range."""
    value = values.get(name, type=int)
    return value if value is not None and 0 <= value <= MAX_ID else None
