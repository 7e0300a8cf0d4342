"""Jinja templates of hotel-community, installed as ``hotel_community.templates``.

Every template lives under ``hotel_community/``; a host app overrides one by
putting a file at the same path in its own templates folder.
"""
from pathlib import Path

FOLDER = Path(__file__).parent
