"""Blueprints: guest pages, staff pages and the PMS API. Thin: parse, call a service, answer."""
from __future__ import annotations


def local_path(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None: no open redirects.

    Browsers read ``//host`` and ``/\\host`` as another site.
    """
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None
